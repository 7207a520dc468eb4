"""Fixes to faust-streaming 0.15.3 that at-least-once delivery depends on; `install()` applies them.

1. A flush that drains. Faust writes every table change to the table's changelog with
   `send_soon`, into the producer's buffer (`ProducerBuffer`), which a background task hands to
   the Kafka client one by one. Before committing offsets Faust calls `producer.flush()`, but
   `ProducerBuffer.flush` gives up once 0.1 s pass without a message leaving the buffer, and
   never waits for the message in hand: a busy worker could commit the offset of an event whose
   table write was still in memory, and a kill right then lost that state for good (for
   pricewatch: a price change parked until its listing comes). The flush now waits until the
   broker acknowledged every message put in the buffer, or raises the error that stopped one
   (and so does every later flush), so the offsets are not committed and the events come again.

2. A read loop (`Consumer._drain_messages`) that delivers every offset. When the offsets of a
   partition jump (it expected 198 and got 209), Faust takes the missing ones for a hole
   (compaction, transaction markers) and counts them as processed, so the next commit passes
   over them. Jumps also come from records Faust itself dropped or delivered out of turn: a
   batch cut by a rebalance, records fetched before a restart's seek to the committed offsets.
   The loop now keeps, per partition, the next offset to deliver, set by every seek and by
   every delivered record: records of a batch fetched before a seek of their partition are
   dropped (the client reads them again from the new position), a delivery a seek overtook does
   not move the offset the seek set, and a record past the next offset makes the loop rewind to
   it. Only offsets still missing after `_REWINDS` rewinds are passed over, the way Faust does.
   Topics that commit nothing (changelogs, whose recovery seeks them itself) keep Faust's rule.

Seen here before the fixes: 3–28 price changes neither enriched nor dead-lettered after a
SIGKILL and restart, about one run in three (tests/stream/test_stream_kafka.py).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.transport import consumer as faust_consumer
from faust.transport.consumer import Consumer
from faust.transport.producer import ProducerBuffer

__all__ = ["install", "drain", "drain_messages"]

logger = logging.getLogger(__name__)

_POLL_S = 1.0  # how often a waiting flush checks that the buffer is still running
_REWINDS = 5  # rewinds to the same missing offset before it is taken for a real hole


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


class _NextOffsets:
    """Per partition, the next offset the read loop must deliver (None: any), and its seeks so far."""

    def __init__(self) -> None:
        self.next: dict[Any, int | None] = {}
        self.seeks: dict[Any, int] = {}
        self.rewinds: dict[tuple[Any, int], int] = {}

    def after_seek(self, tps_to_offsets: dict[Any, int | None]) -> None:
        self.next.update(tps_to_offsets)
        for tp in tps_to_offsets:
            self.seeks[tp] = self.seeks.get(tp, 0) + 1

    def should_rewind(self, tp: Any, missing: int) -> bool:
        """True while the offsets from `missing` on may still hold records."""
        if len(self.rewinds) > 10_000:  # old entries: partitions long since read on
            self.rewinds.clear()
        tries = self.rewinds.get((tp, missing), 0)
        self.rewinds[(tp, missing)] = tries + 1
        return tries < _REWINDS


def _next_offsets(consumer: Consumer) -> _NextOffsets:
    return consumer.__dict__.setdefault("_pricewatch_next_offsets", _NextOffsets())


async def _perform_seek_tracked(self: Consumer) -> None:
    await _original_perform_seek(self)
    # Faust's seek to the committed offsets leaves them (the next offsets to read) in _read_offset.
    _next_offsets(self).after_seek(dict(self._read_offset))


async def _seek_tracked(self: Consumer, partition: Any, offset: int) -> None:
    await _original_seek(self, partition, offset)
    _next_offsets(self).after_seek({faust_consumer.ensure_TP(partition): offset})


async def drain_messages(self: Consumer, fetcher: Any) -> None:  # pragma: no cover - runs in every broker test
    """Faust's read loop, delivering every offset of a partition in order or rewinding to it."""
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    read_offset = self._read_offset
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    offsets = _next_offsets(self)
    since_yield = 0
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            self.diag.set_flag(faust_consumer.CONSUMER_FETCHING)
            batch = getmany(timeout=1.0)
            await self.sleep(0)
            if self.should_stop:
                continue
            # A seek makes the partition's records of a batch fetched before it stale: the
            # client reads them again from the new position. The seek's offset is the truth.
            # (Taken at the first record, not before the fetch: a rebalance's seek happens while
            # getmany waits for the flow to resume, and what it fetches then is current.)
            seeks_at_fetch = None
            async for tp, message in batch:
                if seeks_at_fetch is None:
                    seeks_at_fetch = dict(offsets.seeks)
                since_yield += 1
                if since_yield > 100:
                    await asyncio.sleep(0)
                    since_yield = 0
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
                offset = message.offset
                if not acks_enabled_for(message.topic):
                    # Changelogs (table recovery seeks them itself) and other topics that commit
                    # nothing: Faust's own rule, unchanged.
                    last = read_offset.get(tp)
                    if last is None or offset >= last:
                        await self.wait_first(callback(message), self.suspend_flow.wait())
                        read_offset[tp] = offset
                    continue
                seeks = offsets.seeks.get(tp, 0)
                if seeks != seeks_at_fetch.get(tp, 0):
                    continue  # fetched before a seek of its partition
                wanted = offsets.next.get(tp)
                if wanted is not None and offset < wanted:
                    continue  # delivered already (the client repeats records in some fetches)
                if wanted is not None and offset > wanted:
                    if offsets.should_rewind(tp, wanted):
                        logger.warning("offsets %s..%s of %s were skipped by the consumer; reading them again",
                                       wanted, offset - 1, tp)
                        await self.seek(tp, wanted)
                        continue
                    logger.warning("offsets %s..%s of %s hold no records (compaction or transaction markers)",
                                   wanted, offset - 1, tp)
                    await self._add_gap(tp, wanted, offset - 1)
                delivery = callback(message)
                if delivery not in (await self.wait_first(delivery, self.suspend_flow.wait())).done:
                    break  # the flow stopped first: not delivered; the seek after the rebalance reads it again
                if offsets.seeks.get(tp, 0) == seeks:  # else a seek came meanwhile and says what is next
                    offsets.next[tp] = offset + 1
                read_offset[tp] = offset
            self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            return
        raise
    except Exception as exc:
        logger.exception("Drain messages raised: %r", exc)
        raise
    finally:
        self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)


_original_put = ProducerBuffer.put
_original_perform_seek = Consumer.perform_seek
_original_seek = Consumer.seek


def install() -> None:
    """Make the producer flush drain, and the consumer deliver every offset (idempotent)."""
    if ProducerBuffer.flush is not drain:
        ProducerBuffer.put = _put_tracked
        ProducerBuffer.flush = drain
        Consumer.perform_seek = _perform_seek_tracked
        Consumer.seek = _seek_tracked
        Consumer._drain_messages = drain_messages

