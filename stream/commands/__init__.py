"""One module per `pricewatch` sub-command: each has `register(subparsers)` and `run(args) -> int`."""
