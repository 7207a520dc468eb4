"""`pricewatch produce FEED.jsonl`: send a feed file to Kafka, one message per line.

A line is `{"topic": ..., "value": {...}, "key"?: ...}` (see docs/ARCHITECTURE.md); the key
defaults to `value["product_id"]`, the value is sent as UTF-8 JSON (a string value as its raw
text, `value_b64` as raw bytes, so malformed test messages arrive exactly as written). A line
that is not a feed line is reported on stderr and skipped, never sent and never fatal.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["register", "run", "send_feed", "SendReport", "message_key", "quiet_kafka_logs"]

_BAD_LINES_SHOWN = 20  # the rest are only counted


@dataclass
class SendReport:
    """What `send_feed` did: delivered, skipped (not a feed line) and failed (broker said no)."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"sent {self.sent}, skipped {self.skipped} bad lines, failed {self.failed}"


def message_key(item: dict[str, Any]) -> bytes | None:
    """The Kafka key of a feed line: its `key`, else the value's `product_id`.

    >>> message_key({"topic": "drug.listings", "value": {"product_id": "P1"}})
    b'P1'
    >>> message_key({"topic": "drug.listings", "key": "K", "value": {"product_id": "P1"}})
    b'K'
    >>> message_key({"topic": "drug.listings", "value": "not json"}) is None
    True
    """
    value = item.get("value")
    key = item.get("key")
    if key is None and isinstance(value, dict):
        key = value.get("product_id")
    return None if key is None else str(key).encode("utf-8")


def _problem(item: dict[str, Any]) -> str | None:
    """Why a parsed line cannot be sent, or None.

    >>> _problem({"topic": "?", "value": "oops", "line": 3})
    'line 3: not a JSON object with a "topic"'
    >>> _problem({"topic": "drug.listings"})
    'line ?: no "value" (or "value_b64")'
    """
    where = f"line {item.get('line', '?')}"
    if not isinstance(item.get("topic"), str) or item["topic"] in ("", "?"):
        return f'{where}: not a JSON object with a "topic"'
    if "value" not in item and "value_b64" not in item:
        return f'{where}: no "value" (or "value_b64")'
    return None


def send_feed(bootstrap: str, items: Iterable[dict[str, Any]], *, progress: bool = False,
              total: int | None = None, rate: float | None = None, producer: Any = None) -> SendReport:
    """Send feed items to the broker at `bootstrap` (`host:port`), then flush.

    Parameters
    ----------
    items
        Feed lines as dicts (e.g. from `stream.replay.read_feed`).
    progress
        Show a tqdm bar on stderr.
    rate
        At most this many messages per second (a live-looking feed for demos); unlimited if None.
    producer
        A kafka-python `KafkaProducer` to use instead of a new one (it is flushed, not closed).
    """
    from kafka import KafkaProducer
    from tqdm import tqdm

    from stream.replay import message_bytes

    own = producer is None
    if own:
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                 client_id="pricewatch-produce")
    report = SendReport()

    def failed(exc: BaseException) -> None:
        report.failed += 1
        report.problems.append(f"delivery failed: {exc!r}")

    started = time.monotonic()
    try:
        for n, item in enumerate(tqdm(items, total=total, desc="produce", unit="msg", file=sys.stderr,
                                      disable=not progress)):
            problem = _problem(item)
            if problem:
                report.skipped += 1
                report.problems.append(problem)
                continue
            if rate:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            producer.send(item["topic"], key=message_key(item), value=message_bytes(item)).add_errback(failed)
            report.sent += 1
        producer.flush(60)
    finally:
        if own:
            producer.close(10)
    report.sent -= report.failed
    return report


def quiet_kafka_logs(args: argparse.Namespace) -> None:
    """kafka-python logs every reconnect at WARNING; a command says what went wrong itself."""
    import logging

    if not getattr(args, "verbose", False):
        logging.getLogger("kafka").setLevel(logging.CRITICAL)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("produce", help="send a feed file (JSONL of {topic, value}) to Kafka")
    parser.add_argument("feed", help="feed JSONL file, or - for stdin")
    parser.add_argument("--broker", help="kafka://HOST:PORT (default: $PW_BROKER, else kafka://localhost:9092)")
    parser.add_argument("--rate", type=float, help="at most this many messages per second")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from stream.replay import read_feed
    from stream.services import any_reachable
    from stream.settings import Settings

    settings = Settings.from_env()
    if args.broker:
        settings = settings.with_(broker=args.broker)
    path = "/dev/stdin" if args.feed == "-" else args.feed
    try:
        total = None
        if args.feed != "-":  # the bar's total; a second read of the file is cheap beside the sending
            with open(path, encoding="utf-8") as lines:
                total = sum(1 for line in lines if line.strip())
    except OSError as exc:
        print(f"pricewatch produce: cannot read {args.feed}: {exc.strerror}", file=sys.stderr)
        return 2
    if not any_reachable(settings.broker_hosts):
        print(f"pricewatch produce: no Kafka broker answers at {settings.broker} (set --broker or PW_BROKER)",
              file=sys.stderr)
        return 2
    quiet_kafka_logs(args)
    try:
        report = send_feed(settings.broker_hosts, read_feed(path), progress=not args.quiet, total=total,
                           rate=args.rate)
    except KafkaError as exc:
        print(f"pricewatch produce: no Kafka broker at {settings.broker}: {exc!r}", file=sys.stderr)
        return 2
    for problem in report.problems[:_BAD_LINES_SHOWN]:
        print(f"  {problem}", file=sys.stderr)
    if len(report.problems) > _BAD_LINES_SHOWN:
        print(f"  … and {len(report.problems) - _BAD_LINES_SHOWN} more", file=sys.stderr)
    print(f"{args.feed} → {settings.broker}: {report.summary()}", file=sys.stderr)
    return 1 if report.failed else 0
