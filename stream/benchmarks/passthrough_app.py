"""The bare Faust passthrough `pricewatch bench` compares the pipeline with.

One agent reads a raw-bytes topic and sends every message, unchanged, to another topic. It has
the pricewatch worker's transport settings (copied from `stream.app.app.conf`: processing
guarantee, commit cadence, producer acks, partitions) and the same batching loop
(`take_events(PW_BATCH_SIZE, within=PW_BATCH_WINDOW_S)`), so the pipeline/passthrough ratio
measures what our processing costs and not a difference in Kafka plumbing. Nothing else runs
in it: no tables, no web server, no Prometheus sensor.

Run as a child process (`PassthroughProcess` in `stream.benchmarks.pipeline` does it):

    PW_BROKER=kafka://127.0.0.1:9092 PW_BENCH_SOURCE=bench-in PW_BENCH_SINK=bench-out \\
        python -m stream.benchmarks.passthrough_app worker --loglevel warn
"""
from __future__ import annotations

import os
from typing import Final

import faust
from faust import StreamT

from stream.app import app as pricewatch_app
from stream.settings import Settings

__all__ = ["app", "passthrough", "SOURCE_TOPIC", "SINK_TOPIC", "COPIED_SETTINGS"]

# The worker's own transport settings, taken from its app so that the two cannot drift apart.
COPIED_SETTINGS: Final = (
    "processing_guarantee", "broker_commit_every", "broker_commit_interval", "producer_acks",
    "producer_linger", "producer_max_batch_size", "topic_partitions", "topic_replication_factor",
)

settings = Settings.from_env()
SOURCE_TOPIC: Final = os.environ.get("PW_BENCH_SOURCE", "bench.passthrough-in")
SINK_TOPIC: Final = os.environ.get("PW_BENCH_SINK", "bench.passthrough-out")

app = faust.App(
    f"{settings.app_id}-passthrough",
    broker=settings.broker,
    store="memory://",
    datadir=settings.data_dir,
    web_enabled=False,
    **{name: getattr(pricewatch_app.conf, name) for name in COPIED_SETTINGS},
)

_raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
            partitions=settings.partitions)
source = app.topic(SOURCE_TOPIC, **_raw)
sink = app.topic(SINK_TOPIC, **_raw)


@app.agent(source)
async def passthrough(stream: StreamT) -> None:
    """Each message to the sink, in batches exactly like `stream.agents.process_products` takes them."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        for event in events:
            await sink.send(key=event.message.key, value=event.message.value)


if __name__ == "__main__":
    app.main()
