"""`pricewatch bench`: the stream's speed and memory on a real broker, and its components' cost per event.

`pricewatch bench` runs everything (`stream.benchmarks.pipeline` on a broker, then the
extraction-only and detector-only micro-benchmarks); `pricewatch bench extract` and
`pricewatch bench detect` run one micro-benchmark. Progress goes to stderr; stdout gets the
table, or with `--json` one JSON object (`stream.benchmarks.report.summarise`).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="throughput, latency and memory of the stream on a real broker; cost per event of its parts",
        description="Measure on one broker in one run: a bare Faust passthrough's events/s, the full pipeline's "
                    "events/s, their ratio, end-to-end latency at 1,000 ev/s, the worker's peak RSS with "
                    "--products in state, and the extraction-only and detector-only cost per event.")
    parser.add_argument("what", nargs="?", choices=("all", "extract", "detect"), default="all",
                        help="all (default), or only the extraction or detector micro-benchmark")
    parser.add_argument("--broker", default="kafka",
                        help="kafka (start Apache Kafka from the Maven jars, default), tansu, or kafka://HOST:PORT "
                             "of a running broker whose input topics are empty")
    parser.add_argument("--events", type=int, help="price changes per throughput run (default 20,000)")
    parser.add_argument("--products", type=int, help="listings preloaded into the worker's state (default 100,000)")
    parser.add_argument("--latency-seconds", type=float, help="length of the 1,000 ev/s latency run (default 20)")
    parser.add_argument("--partitions", type=int, help="partitions of every topic (default 4)")
    parser.add_argument("--inserts", type=Path, help="inserts JSONL for `extract` (default data/inserts_dev.jsonl)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of a minute or two")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.benchmarks.detect import run_detect_benchmark
    from stream.benchmarks.extract import run_extract_benchmark
    from stream.benchmarks.pipeline import BenchSizes, bench_broker, run_stream_benchmark
    from stream.benchmarks.report import format_report, machine_info, summarise
    from stream.services import REPO_ROOT

    logging.getLogger("kafka").setLevel(logging.ERROR)  # kafka-python's notes on group-less consumers
    machine = machine_info()  # before we load the machine ourselves
    sizes = _sizes(args, BenchSizes.quick() if args.quick else BenchSizes())
    inserts = args.inserts or REPO_ROOT / "data" / "inserts_dev.jsonl"
    stream = extract = detect = None
    broker = ""
    if args.what == "all":
        with bench_broker(args.broker) as (bootstrap, broker):
            stream = run_stream_benchmark(bootstrap, sizes, broker="tansu" if args.broker == "tansu" else "kafka")
    if args.what in ("all", "extract"):
        _say("extraction only")
        extract = run_extract_benchmark(inserts, repeat=1 if args.quick else 3)
    if args.what in ("all", "detect"):
        _say("detectors only")
        detect = run_detect_benchmark(n_events=2_000 if args.quick else 20_000, repeats=1 if args.quick else 3)
    summary = summarise(stream=stream, extract=extract, detect=detect, broker=broker, machine=machine)
    print(json.dumps(summary, ensure_ascii=False, indent=2) if args.json else format_report(summary))
    return 0


def _sizes(args: argparse.Namespace, base: object) -> object:
    from dataclasses import replace

    given = {"events": args.events, "products": args.products, "latency_s": args.latency_seconds,
             "partitions": args.partitions}
    return replace(base, **{k: v for k, v in given.items() if v is not None})


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
