"""Repository-level pytest settings: which modules' doctests are not collected."""

# Importing the agents module wires the worker (metrics page, sinks): it is exercised by the
# broker tests through a real worker process instead.
collect_ignore = ["stream/agents.py", "stream/__main__.py"]
