"""kafka-python helpers for the broker tests: produce a feed, read a topic back until it settles."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Iterable

from kafka import KafkaConsumer, KafkaProducer

from stream.replay import message_bytes


def produce(bootstrap: str, items: Iterable[dict[str, Any]]) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    count = 0
    for item in items:
        value = item.get("value")
        key = item.get("key") or (value.get("product_id") if isinstance(value, dict) else None)
        producer.send(item["topic"], key=key.encode() if isinstance(key, str) else key, value=message_bytes(item))
        count += 1
    producer.flush(30)
    producer.close()
    return count


class TopicReader:
    """Reads a topic from the beginning, keeping everything seen, decoded as JSON."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.records: list[dict[str, Any]] = []
        self._consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=500,
        )

    def poll(self) -> list[dict[str, Any]]:
        for batch in self._consumer.poll(timeout_ms=500, max_records=5000).values():
            self.records.extend(json.loads(m.value) for m in batch)
        return self.records

    def close(self) -> None:
        self._consumer.close()


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, on_timeout: Callable[[], str] = str,
               worker: Any = None) -> None:
    """Poll `condition`; fail with `on_timeout()` (e.g. the worker's log tail) on time-out or when `worker` died.

    `worker` defaults to the owner of `on_timeout` when that is a bound method such as `worker.log_tail`.
    """
    worker = worker or getattr(on_timeout, "__self__", None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and not worker.running:
            raise AssertionError(f"the worker died while waiting for {what}\n{on_timeout()}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{on_timeout()}")


def delete_all_topics(bootstrap: str, timeout: float = 60.0) -> None:
    """Start a broker test from empty topics: the contract fixes the names, so tests share them."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-cleaner")
    try:
        names = [t for t in admin.list_topics() if not t.startswith("__")]
        if names:
            admin.delete_topics(names, timeout_ms=30000)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and set(names) & set(admin.list_topics()):
            time.sleep(0.3)
    finally:
        admin.close()
