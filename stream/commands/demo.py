"""`pricewatch demo`: an embedded stack (broker, redis-server, one worker) and a realistic feed, end to end.

The feed is `pricewatch simulate`'s: real insert texts and real price-list rows, with injected
manipulation patterns and hard negatives. Alerts are printed as they arrive on `price.alerts`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
import uuid
from collections import Counter
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="start an embedded stack and replay a realistic feed through it")
    parser.add_argument("--broker", default="tansu",
                        help="'tansu' (embedded, in-memory, default), 'kafka' (Apache Kafka from the Maven jars) "
                             "or kafka://HOST:PORT of a running broker")
    parser.add_argument("--redis-url", help="use this Redis instead of starting redis-server")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--keep-running", action="store_true", help="keep the stack up after the feed; Ctrl-C stops")
    parser.add_argument("--timeout", type=float, default=600, help="give up waiting for the feed after S seconds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.simulator import simulate
    from stream.workerproc import WorkerProcess

    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop cleanly on SIGTERM as on Ctrl-C
    events = simulate(seed=args.seed).events
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            bootstrap = _broker(args.broker, stack)
            redis_url = args.redis_url or _redis(stack)
            _say(f"broker {bootstrap}, redis {redis_url}; {len(events)} events to send")
            from stream.admin import ensure_topics
            from stream.records import LISTINGS_TOPIC, PRICE_CHANGES_TOPIC
            ensure_topics(bootstrap, (LISTINGS_TOPIC, PRICE_CHANGES_TOPIC, "drug.enriched", "price.alerts",
                                      "drug.deadletter"), partitions=args.partitions)
            worker = WorkerProcess(f"kafka://{bootstrap}", env={
                "PW_APP_ID": f"pricewatch-demo-{uuid.uuid4().hex[:6]}", "PW_PARTITIONS": str(args.partitions),
                "PW_REDIS_URL": redis_url, "PW_WEB_ENABLED": "false"})
            stack.callback(worker.stop)
            worker.start()
            _say(f"worker started (log: {worker.log_path})")
            return _drive(bootstrap, events, worker, args, started)
        except KeyboardInterrupt:
            _say("interrupted: stopping the worker, redis and the broker")
            return 130


def _drive(bootstrap: str, events: list[dict[str, Any]], worker: Any, args: argparse.Namespace,
           started: float) -> int:
    from kafka import KafkaConsumer
    from tqdm import tqdm

    from stream.commands.produce import send_feed
    from stream.formatting import format_alert

    consumer = KafkaConsumer("price.alerts", "drug.enriched", "drug.deadletter", bootstrap_servers=bootstrap,
                             group_id=f"demo-reader-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest")
    try:
        send_feed(bootstrap, events, progress=True)
        wanted = {e["value"]["event_id"] for e in events if isinstance(e.get("value"), dict)}
        seen: set[str] = set()
        alerts: dict[str, dict[str, Any]] = {}
        dead = 0
        bar = tqdm(total=len(events), desc="processed", unit="event", file=sys.stderr)
        deadline = time.monotonic() + args.timeout
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            if not worker.running:
                _say("the worker stopped unexpectedly:\n" + worker.log_tail())
                return 1
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    value = json.loads(record.value)
                    if record.topic == "price.alerts":
                        if value["alert_id"] not in alerts:
                            alerts[value["alert_id"]] = value
                            bar.write(format_alert(value))
                            last_new = time.monotonic()
                    elif record.topic == "drug.deadletter":
                        dead += 1
                        bar.update(1)
                    elif value.get("event_id") in wanted and value["event_id"] not in seen:
                        seen.add(value["event_id"])
                        bar.update(1)
            done = len(seen) + dead >= len(events)
            if done and time.monotonic() - last_new > 3 and not args.keep_running:
                break  # everything processed and the group stage has had time to speak
        bar.close()
        _summary(events, seen, dead, alerts, started)
        while args.keep_running:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    if record.topic == "price.alerts":
                        print(format_alert(json.loads(record.value)), flush=True)
        return 0
    finally:
        consumer.close()


def _summary(events, seen, dead, alerts, started) -> None:
    by_type = Counter(a["type"] for a in alerts.values())
    by_severity = Counter(a["severity"] for a in alerts.values())
    print(f"\n== pricewatch demo: {len(events)} events in {time.monotonic() - started:.0f}s ==")
    print(f"enriched {len(seen)}, dead-lettered {dead}, alerts {len(alerts)}")
    for kind, count in by_type.most_common():
        print(f"  {kind:22s} {count}")
    print("  by severity: " + ", ".join(f"{s} {by_severity[s]}" for s in ("critical", "high", "medium", "low")))


def _broker(choice: str, stack: contextlib.ExitStack) -> str:
    from stream import services

    if choice.startswith("kafka://"):
        return choice.removeprefix("kafka://")
    broker = services.KafkaBroker() if choice == "kafka" else services.TansuBroker()
    _say(f"starting {type(broker).__name__} …")
    stack.callback(broker.stop)
    broker.start()
    return broker.bootstrap


def _redis(stack: contextlib.ExitStack) -> str:
    from stream import services

    server = services.RedisServer()
    stack.callback(server.stop)
    server.start()
    return server.url


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)
