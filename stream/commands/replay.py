"""`pricewatch replay`: the agents' processing, in file order, without a broker."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="run a feed through the pipeline without a broker")
    parser.add_argument("--input", required=True, type=Path, help="feed JSONL: {topic, value} per line")
    parser.add_argument("--output", required=True, type=Path, help="alerts JSONL (price.alerts records)")
    parser.add_argument("--enriched", type=Path, help="also write drug.enriched records here")
    parser.add_argument("--deadletter", type=Path, help="also write drug.deadletter records here")
    parser.add_argument("--extraction", choices=("rules", "hybrid", "llm"), default="rules")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.extractor import build_extractor
    from stream.pipeline import Pipeline
    from stream.replay import read_feed, run_replay
    from stream.settings import Settings

    pipeline = Pipeline(extractor=build_extractor(args.extraction, Settings.from_env()))
    items = list(read_feed(args.input))
    result = run_replay(_progress(items), pipeline=pipeline)
    _write(args.output, result.alerts)
    if args.enriched:
        _write(args.enriched, result.enriched)
    if args.deadletter:
        _write(args.deadletter, result.deadletters)
    by_type: dict[str, int] = {}
    for alert in result.alerts:
        by_type[alert["type"]] = by_type.get(alert["type"], 0) + 1
    print(f"{len(items)} events: {len(result.enriched)} enriched, {len(result.alerts)} alerts, "
          f"{len(result.deadletters)} dead-lettered", file=sys.stderr)
    for alert_type, count in sorted(by_type.items()):
        print(f"  {alert_type:22s} {count}", file=sys.stderr)
    return 0


def _progress(items):
    from tqdm import tqdm

    return tqdm(items, desc="replay", unit="event", file=sys.stderr, disable=not sys.stderr.isatty())


def _write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
