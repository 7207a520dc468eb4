"""Run a feed through the very code the Faust agents run, in file order, without a broker.

A feed line is `{"topic": ..., "value": {...}}`; `value` may also be a string (the raw message
text) or `value_b64` raw bytes, so malformed messages replay exactly as they would arrive.
"""
from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from stream.pipeline import Pipeline, ProductOutput, Source

__all__ = ["ReplayResult", "run_replay", "read_feed", "message_bytes"]


@dataclass
class ReplayResult:
    enriched: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    deadletters: list[dict[str, Any]] = field(default_factory=list)


def read_feed(path: str | Path) -> Iterator[dict[str, Any]]:
    """Feed lines of a JSONL file; a line that is not a JSON object is passed on as raw text."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                item = None
            yield item if isinstance(item, dict) and "topic" in item else {"topic": "?", "value": line, "line": number}


def message_bytes(item: dict[str, Any]) -> bytes:
    """The bytes a producer sends for a feed line (JSON for objects, as-is for raw text)."""
    if "value_b64" in item:
        return base64.b64decode(item["value_b64"])
    value = item.get("value")
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def run_replay(events: Iterable[dict[str, Any]], *, pipeline: Pipeline | None = None,
               batch_size: int = 64) -> ReplayResult:
    """Process a feed in order and collect every output.

    >>> result = run_replay([{"topic": "drug.price-changes", "value": {"event_id": "e1"}}])
    >>> result.deadletters[0]["reason"]
    'missing_field'
    """
    return asyncio.run(replay_async(events, pipeline=pipeline or Pipeline(), batch_size=batch_size))


async def replay_async(events: Iterable[dict[str, Any]], *, pipeline: Pipeline, batch_size: int = 64) -> ReplayResult:
    products: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    result = ReplayResult()
    batch: list[tuple[Source, bytes]] = []

    async def collect(out: ProductOutput) -> None:
        if out.deadletter is not None:
            result.deadletters.append(out.deadletter)
            return
        if out.parked:
            return
        result.enriched.append(out.enriched)
        result.alerts.extend(out.alerts)
        alerts, dead = pipeline.run_group_stage(out.group_event, groups)
        result.alerts.extend(alerts)
        if dead is not None:
            result.deadletters.append(dead)
        correction = await pipeline.recheck_dose(out.group_event, alerts)
        if correction is not None:
            result.enriched.append(correction)

    async def flush() -> None:
        for output in await pipeline.handle_batch(batch, products):
            for out in output.flatten():
                await collect(out)
        batch.clear()

    for offset, item in enumerate(events):
        batch.append((Source(item.get("topic", "?"), None, offset, item.get("key")), message_bytes(item)))
        if len(batch) >= batch_size:
            await flush()
    if batch:
        await flush()
    for product_id in list(products):  # the feed is over: a change still parked has no listing
        for out in pipeline.expire_parked(product_id, products):
            await collect(out)
    return result
