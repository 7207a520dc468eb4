"""`pricewatch tail`: follow alerts as they are raised, one readable line each.

Reads `price.alerts` from Kafka (no consumer group: tailing never moves the workers' offsets),
or with `--from-redis` the capped Redis stream the worker also writes (`pricewatch:alerts`).
An alert seen twice (a worker re-emits after a crash; the id is stable) is printed once.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, Iterator

__all__ = ["register", "run", "alerts_from_kafka", "alerts_from_redis", "parse_alert"]

ALERTS_TOPIC = "price.alerts"


def parse_alert(raw: bytes | str | dict) -> dict[str, Any]:
    """An alert record from message bytes, a JSON string or Redis stream fields.

    >>> parse_alert(b'{"type": "price_jump"}')["type"]
    'price_jump'
    >>> parse_alert({b"alert_id": b"a1", b"alert": b'{"type": "peer_outlier"}'})["type"]
    'peer_outlier'
    >>> parse_alert(b"not json")
    {'raw': 'not json'}
    """
    if isinstance(raw, dict):  # Redis stream fields: the record is JSON under "alert"
        fields = {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}
        raw = fields.get("alert", json.dumps({k: v.decode() if isinstance(v, bytes) else v for k, v in fields.items()}))
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"raw": text}


def alerts_from_kafka(bootstrap: str, *, from_beginning: bool, deadline: float,
                      topic: str = ALERTS_TOPIC) -> Iterator[dict[str, Any]]:
    """Alerts on `topic` until `deadline` (a `time.monotonic()` value)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest" if from_beginning else "latest",
                             client_id="pricewatch-tail")
    try:
        while time.monotonic() < deadline:
            wait_ms = int(min(1.0, max(0.0, deadline - time.monotonic())) * 1000)
            for records in consumer.poll(timeout_ms=wait_ms).values():
                for record in records:
                    yield parse_alert(record.value)
    finally:
        consumer.close()


def alerts_from_redis(url: str, stream: str, *, from_beginning: bool, deadline: float) -> Iterator[dict[str, Any]]:
    """Alerts appended to the Redis stream until `deadline`."""
    import redis

    client = redis.Redis.from_url(url)
    last_id = "0" if from_beginning else "$"
    try:
        while time.monotonic() < deadline:
            block_ms = max(1, int(min(1.0, deadline - time.monotonic()) * 1000))
            for _name, entries in client.xread({stream: last_id}, block=block_ms, count=500) or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    yield parse_alert(fields)
    finally:
        client.close()


def _printer(as_json: bool) -> Callable[[dict[str, Any]], str]:
    from stream.formatting import format_alert

    def show(alert: dict[str, Any]) -> str:
        if as_json:
            return json.dumps(alert, ensure_ascii=False)
        if "raw" in alert:
            return f"(not an alert record) {alert['raw'][:200]}"
        return format_alert(alert)

    return show


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tail", help="follow price alerts from Kafka (or the Redis stream)")
    parser.add_argument("--broker", help="kafka://HOST:PORT (default: $PW_BROKER, else kafka://localhost:9092)")
    parser.add_argument("--from-redis", action="store_true", help="read the Redis alert stream instead of Kafka")
    parser.add_argument("--redis", metavar="URL", help="Redis URL (default: $PW_REDIS_URL)")
    parser.add_argument("--from-beginning", action="store_true", help="show the alerts already there first")
    parser.add_argument("--max", type=int, metavar="N", help="stop after N alerts")
    parser.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--json", action="store_true", help="print each alert as a JSON line")
    parser.add_argument("--topic", default=ALERTS_TOPIC, help=f"Kafka topic to follow (default {ALERTS_TOPIC})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.settings import Settings

    settings = Settings.from_env()
    if args.broker:
        settings = settings.with_(broker=args.broker)
    if args.redis:
        settings = settings.with_(redis_url=args.redis)
    deadline = time.monotonic() + (args.timeout if args.timeout is not None else float("inf"))
    if args.from_redis:
        if not settings.redis_url:
            print("pricewatch tail: --from-redis needs --redis URL or PW_REDIS_URL", file=sys.stderr)
            return 2
        source = alerts_from_redis(settings.redis_url, settings.alerts_stream,
                                   from_beginning=args.from_beginning, deadline=deadline)
        where = f"{settings.redis_url} stream {settings.alerts_stream}"
    else:
        from stream.commands.produce import quiet_kafka_logs
        from stream.services import any_reachable

        if not any_reachable(settings.broker_hosts):
            print(f"pricewatch tail: no Kafka broker answers at {settings.broker} (set --broker or PW_BROKER)",
                  file=sys.stderr)
            return 2
        quiet_kafka_logs(args)
        source = alerts_from_kafka(settings.broker_hosts, from_beginning=args.from_beginning, deadline=deadline,
                                   topic=args.topic)
        where = f"{settings.broker} topic {args.topic}"
    show = _printer(args.json)
    seen: set[str] = set()
    shown = 0
    try:
        print(f"following {where} …", file=sys.stderr, flush=True)
        for alert in source:
            alert_id = alert.get("alert_id")
            if alert_id is not None and alert_id in seen:
                continue
            seen.add(alert_id)
            print(show(alert), flush=True)
            shown += 1
            if args.max is not None and shown >= args.max:
                break
    except Exception as exc:  # a dead broker or Redis: say where, not a traceback
        if type(exc).__module__.split(".")[0] not in ("kafka", "redis"):
            raise
        print(f"pricewatch tail: cannot read {where}: {exc!r}", file=sys.stderr)
        return 2
    finally:
        source.close()
    print(f"{shown} alerts", file=sys.stderr)
    return 1 if args.max is not None and shown < args.max else 0
