"""The Faust app, and only the app: importing it contacts no broker.

`faust -A stream.app worker` and `pricewatch worker` both find it here.
"""
from __future__ import annotations

import faust

from stream import faust_fixes
from stream.settings import Settings

__all__ = ["app", "settings", "main"]

# Table writes must reach Kafka before the offsets of their events are committed.
faust_fixes.install()

settings = Settings.from_env()

app = faust.App(
    settings.app_id,
    broker=settings.broker,
    store=settings.store,
    autodiscover=["stream.agents"],
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication,
    topic_allow_declare=True,
    datadir=settings.data_dir,
    web_enabled=settings.web_enabled,
    web_port=settings.web_port,
    web_host="0.0.0.0",
    processing_guarantee="at_least_once",
    broker_commit_every=100,
    broker_commit_interval=1.0,
    producer_acks=-1,
    producer_linger=0.005,  # s: sends wait up to 5 ms to share a produce request
    producer_max_batch_size=262_144,  # bytes per partition and request (default 16 KB: ~10 messages)
    table_standby_replicas=0,
)


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
