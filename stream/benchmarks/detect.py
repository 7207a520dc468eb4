"""Detector cost per event: all six detectors (the `DetectorSuite`) on one core.

The events are a simulated feed (`stream.simulator`) enriched once by `stream.replay` (not
timed); the timed loop runs both suite stages over them with fresh state, as the stream
does: product stage per product id, group stage per 通用名.
"""
from __future__ import annotations

import time
from typing import Any

from models.detectors.suite import DetectorSuite

__all__ = ["run_detect_benchmark", "enriched_events"]


def enriched_events(n_events: int, seed: int = 0) -> list[dict[str, Any]]:
    """At least `n_events` enriched events from simulated feeds (seeds `seed`, `seed` + 1 …)."""
    from stream.replay import run_replay
    from stream.simulator import simulate

    events: list[dict[str, Any]] = []
    while len(events) < n_events:
        feed = simulate(seed).events
        tag = f"s{seed}-"  # keep products and groups of different seeds apart
        for item in feed:
            item["value"]["product_id"] = tag + item["value"]["product_id"]
        events += [e | {"generic_name": tag + e["generic_name"]} for e in run_replay(feed).enriched if e]
        seed += 1
    return events[:n_events]


def run_detect_benchmark(n_events: int = 20_000, repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Microseconds per event for the whole suite (best of `repeats` passes).

    Returns ``{"name", "n_events", "us_per_event", "events_per_s", "alerts", "runs_us_per_event"}``.
    """
    events = enriched_events(n_events, seed)
    runs, alerts = [], 0
    for _ in range(repeats):
        suite = DetectorSuite()
        products: dict[str, dict[str, Any]] = {}
        groups: dict[str, Any] = {}
        found = 0
        start = time.perf_counter()
        for event in events:
            state = products.get(event["product_id"])
            if state is None:
                state = products[event["product_id"]] = {}
            found += len(suite.on_product_event(event, state))
            group = groups.get(event["generic_name"])
            if group is None:
                group = groups[event["generic_name"]] = suite.new_group_state()
            found += len(suite.on_group_event(event, group))
        runs.append((time.perf_counter() - start) * 1e6 / len(events))
        alerts = found
    best = min(runs)
    return {"name": "detect", "n_events": len(events), "us_per_event": round(best, 2),
            "events_per_s": round(1e6 / best), "alerts": alerts, "runs_us_per_event": [round(r, 2) for r in runs]}


if __name__ == "__main__":
    print(run_detect_benchmark())
