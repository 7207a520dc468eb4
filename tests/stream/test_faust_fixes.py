"""The drained producer flush that at-least-once depends on (stream/faust_fixes.py).

A slow hand-over to the Kafka client is simulated here: it is the one fault that cannot be
caused on demand against a real broker (the crash test in test_stream_kafka.py covers the
real path, where it made a SIGKILL lose parked price changes about one run in five).
"""
from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import pytest
from faust.transport.producer import ProducerBuffer

from stream import faust_fixes

SEND_S = 0.15  # longer than the 0.1 s after which Faust's own flush gives up


async def _slow_buffer(fail: bool = False) -> ProducerBuffer:
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))

    async def send_slowly(fut: asyncio.Future) -> None:
        await asyncio.sleep(SEND_S)
        if fail:
            fut.set_exception(ConnectionError("broker gone"))
        else:
            fut.set_result("acknowledged")

    buffer._send_pending = send_slowly
    await buffer.start()
    return buffer


def _put(buffer: ProducerBuffer, n: int) -> list[asyncio.Future]:
    futures = [asyncio.get_running_loop().create_future() for _ in range(n)]
    for fut in futures:
        buffer.put(fut)
    return futures


def test_flush_waits_until_every_buffered_message_is_acknowledged():
    faust_fixes.install()

    async def scenario() -> list[bool]:
        buffer = await _slow_buffer()
        try:
            futures = _put(buffer, 3)
            await buffer.flush()
            return [f.done() for f in futures]
        finally:
            await buffer.stop()

    assert asyncio.run(scenario()) == [True, True, True]


def test_a_failed_send_stops_every_later_commit():
    faust_fixes.install()

    async def scenario() -> None:
        buffer = await _slow_buffer(fail=True)
        try:
            futures = _put(buffer, 1)
            with pytest.raises(RuntimeError, match="could not be sent"):
                await buffer.flush()
            assert futures[0].done()
            with pytest.raises(RuntimeError, match="could not be sent"):
                await buffer.flush()  # sticky: the offsets must never pass the lost message
        finally:
            with contextlib.suppress(RuntimeError):  # its stop flushes too, and says so again
                await buffer.stop()

    asyncio.run(scenario())


def test_faust_stock_flush_returns_with_messages_unsent():
    """Why the fix exists: the flush Faust ships gives up after 0.1 s without progress."""
    stock_flush = ProducerBuffer.flush_atmost

    async def scenario() -> list[bool]:
        buffer = await _slow_buffer()
        try:
            futures = _put(buffer, 3)
            await stock_flush(buffer, None)
            done = [f.done() for f in futures]
            await faust_fixes.drain(buffer)
            return done
        finally:
            await buffer.stop()

    assert asyncio.run(scenario()) != [True, True, True]
