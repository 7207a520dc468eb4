"""The topics of the event contract and the one internal re-partition topic, declared together.

Inputs are read as raw bytes so that a malformed message reaches our own validation (and the
dead-letter topic) instead of failing inside the consumer.
"""
from __future__ import annotations

from typing import Final

from stream.app import app, settings
from stream.records import LISTINGS_TOPIC, PRICE_CHANGES_TOPIC

__all__ = [
    "TOPIC_NAMES", "ENRICHED_TOPIC", "ALERTS_TOPIC", "DEADLETTER_TOPIC", "GROUP_EVENTS_TOPIC", "CONTROL_TOPIC",
    "PRODUCT_SOURCES", "inputs", "control", "enriched", "alerts", "deadletter", "group_events",
]

ENRICHED_TOPIC: Final = "drug.enriched"
ALERTS_TOPIC: Final = "price.alerts"
DEADLETTER_TOPIC: Final = "drug.deadletter"
GROUP_EVENTS_TOPIC: Final = f"{settings.app_id}-group-events"  # enriched events re-keyed by 通用名
CONTROL_TOPIC: Final = f"{settings.app_id}-control"  # product-keyed sweeps of parked price changes
TOPIC_NAMES: Final = (LISTINGS_TOPIC, PRICE_CHANGES_TOPIC, ENRICHED_TOPIC, ALERTS_TOPIC, DEADLETTER_TOPIC,
                      GROUP_EVENTS_TOPIC, CONTROL_TOPIC)
# Topics the products table is built from: they must share its partition count.
PRODUCT_SOURCES: Final = (LISTINGS_TOPIC, PRICE_CHANGES_TOPIC, CONTROL_TOPIC)

_raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
            partitions=settings.partitions)
inputs = app.topic(*PRODUCT_SOURCES, **_raw)
control = app.topic(CONTROL_TOPIC, **_raw)
enriched = app.topic(ENRICHED_TOPIC, **_raw)
alerts = app.topic(ALERTS_TOPIC, **_raw)
deadletter = app.topic(DEADLETTER_TOPIC, **_raw)
group_events = app.topic(GROUP_EVENTS_TOPIC, key_serializer="raw", value_serializer="raw",
                         partitions=settings.partitions, internal=True)  # JSON lists of group events (stream.agents)
