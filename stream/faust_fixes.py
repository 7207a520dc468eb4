"""A fix to faust-streaming 0.15.3 that at-least-once delivery depends on: a flush that drains.

Faust writes every table change to the table's changelog with `send_soon`, which puts the
message in the producer's buffer (`ProducerBuffer`); a background task hands the buffered
messages to the Kafka client one by one. Before it commits consumer offsets, Faust calls
`producer.flush()`, which is meant to wait for that buffer. It does not quite:
`ProducerBuffer.flush` gives up as soon as 0.1 s pass without a message leaving the buffer,
and it never waits for the message the background task is sending at that moment. A worker
that is busy (or whose Kafka client is waiting for room) can therefore commit the offset of
an event whose table write is still in memory. Killed right then, the worker loses that write
for good: the event is not delivered again, and the state it made (for pricewatch: a price
change parked until its product's listing comes) is gone with it.

`install()` replaces `ProducerBuffer.flush` with one that waits until every message put in
the buffer so far has been acknowledged by the broker (or raises the error that stopped one,
so the offsets are not committed and the events come again). Messages put while it waits are
waited for too: they belong to events that may be in the same commit.
"""
from __future__ import annotations

import asyncio
from typing import Any

from faust.transport.producer import ProducerBuffer

__all__ = ["install", "drain"]

_POLL_S = 1.0  # how often a waiting flush checks that the buffer is still running


class _Tracker:
    """The buffer's messages not yet acknowledged, and the errors of those that failed."""

    def __init__(self) -> None:
        self.unsent: set[asyncio.Future] = set()
        self.failed: list[BaseException] = []

    def add(self, fut: asyncio.Future) -> None:
        self.unsent.add(fut)
        fut.add_done_callback(self._settled)

    def _settled(self, fut: asyncio.Future) -> None:
        self.unsent.discard(fut)
        error = fut.exception() if not fut.cancelled() else asyncio.CancelledError()
        if error is not None:
            self.failed.append(error)


def _tracker(buffer: ProducerBuffer) -> _Tracker:
    return buffer.__dict__.setdefault("_pricewatch_tracker", _Tracker())


def _put_tracked(self: ProducerBuffer, fut: Any) -> None:
    _tracker(self).add(fut)
    _original_put(self, fut)


async def drain(self: ProducerBuffer) -> None:
    """Wait until the broker has acknowledged every message put in this buffer.

    Raises when a message could not be sent (every later flush too: the offsets must never be
    committed past it, a restart delivers its event again), or when the buffer stops with
    messages left.
    """
    tracker = _tracker(self)
    while tracker.unsent and not tracker.failed:
        if self.state != "running":
            raise RuntimeError(f"producer buffer stopped with {len(tracker.unsent)} messages unsent")
        await asyncio.wait(list(tracker.unsent), timeout=_POLL_S)
    if tracker.failed:
        raise RuntimeError(f"{len(tracker.failed)} changelog messages could not be sent; "
                           "offsets are not committed past them") from tracker.failed[0]


_original_put = ProducerBuffer.put


def install() -> None:
    """Make `ProducerBuffer.flush` drain (idempotent)."""
    if ProducerBuffer.flush is not drain:
        ProducerBuffer.put = _put_tracked
        ProducerBuffer.flush = drain
