"""`pricewatch simulate`: write a realistic labeled feed (events.jsonl + truth.jsonl) for `eval alerts`."""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="write a labeled feed with injected price-manipulation patterns and hard negatives")
    parser.add_argument("--out", required=True, type=Path, help="directory for events.jsonl and truth.jsonl")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--groups", type=int, default=60, help="peer groups (通用名) to simulate (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.simulator import write_simulation  # imported late: reads the data files

    events, truth = write_simulation(args.out, args.seed, n_groups=args.groups)
    cases = Counter(json.loads(line)["case"] for line in open(truth, encoding="utf-8"))
    print(f"wrote {events} and {truth}: {sum(cases.values())} events")
    print(", ".join(f"{case} {n}" for case, n in cases.most_common()))
    return 0
