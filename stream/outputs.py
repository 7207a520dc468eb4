"""What the processing core hands back: outputs per input message, and dead-letter records.

Kept apart from `stream.pipeline` so the agents, `replay` and the tests share the shapes without
the processing logic.
"""
from __future__ import annotations

import base64
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["Source", "ProductOutput", "GroupState", "deadletter_record", "as_text"]


@dataclass(frozen=True)
class Source:
    """Where a message came from, for dead-letter records."""

    topic: str
    partition: int | None = None
    offset: int | None = None
    key: bytes | str | None = None


@dataclass
class ProductOutput:
    """What the product stage produced for one input event."""

    enriched: dict[str, Any] | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)
    group_event: dict[str, Any] | None = None
    deadletter: dict[str, Any] | None = None
    parked: bool = False  # a price change that came before its listing, kept until the listing arrives
    followups: list[ProductOutput] = field(default_factory=list)  # parked changes applied after a listing

    def flatten(self) -> list[ProductOutput]:
        """This output and its follow-ups, in the order they happened."""
        return [self] + [f for follow in self.followups for f in follow.flatten()]


class GroupState:
    """A peer group's detector state plus the ids of the group events it has seen."""

    def __init__(self, detect: Any) -> None:
        self.detect = detect
        self.done: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()


def deadletter_record(source: Source, raw: bytes | str | None, reason: str, error: str,
                      event_id: str | None = None) -> dict[str, Any]:
    """The `drug.deadletter` record: where the message came from, its bytes and why it failed.

    >>> r = deadletter_record(Source("drug.listings", 0, 7), b"\\xff", "undecodable", "not UTF-8")
    >>> r["original"], r["encoding"], r["source_offset"]
    ('/w==', 'base64', 7)
    """
    if isinstance(raw, bytes):
        try:
            original, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            original, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    else:
        original, encoding = raw, "utf-8"
    key = as_text(source.key)
    return {
        "reason": reason, "error": error, "event_id": event_id,
        "source_topic": source.topic, "source_partition": source.partition, "source_offset": source.offset,
        "key": key, "original": original, "encoding": encoding,
        "dead_lettered_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
    }


def as_text(key: Any) -> str | None:
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else key
