"""pricewatch stream layer: the Faust app, records, topics, agents, sinks, settings and the CLI.

Importing this package has no side effects: no broker is contacted until a worker starts.
"""
