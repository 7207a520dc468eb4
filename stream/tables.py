"""Per-key state, in Faust tables whose changelogs bring it back after a restart."""
from __future__ import annotations

import warnings

import faust

from stream.app import app, settings

__all__ = ["products", "groups"]

# product_id -> JSON state: latest listing, daily dose, pack facts, price per region, detector memory.
products = app.Table(
    "products", partitions=settings.partitions,
    schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
)
# 通用名 -> GroupState (peer-group detectors; River objects inside, hence pickle). Only our own
# workers write this changelog topic, which is what makes pickle acceptable here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The pickle codec")
    groups = app.Table(
        "groups", partitions=settings.partitions,
        schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="pickle"),
    )
