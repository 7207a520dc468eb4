"""Topic creation on a real Apache Kafka broker: partitions, compaction of changelogs, mismatches."""
from __future__ import annotations

import uuid

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from rules.errors import ConfigError
from stream.admin import ensure_topics


def _config(bootstrap: str, topic: str) -> dict[str, str]:
    """The topic's settings that differ from the broker's defaults."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-admin")
    try:
        found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        return {key: entry["value"] for key, entry in found["topic"][topic].items()}
    finally:
        admin.close()


def test_creates_missing_topics_and_compacts_changelogs(kafka_broker):
    run = uuid.uuid4().hex[:6]
    plain, changelog = f"t-{run}-plain", f"t-{run}-products-changelog"
    created = ensure_topics(kafka_broker.bootstrap, [plain], partitions=2, compacted=[changelog])
    assert sorted(created) == sorted([plain, changelog])
    # ensure_topics returns only once the broker serves the topics: no polling needed here
    assert _config(kafka_broker.bootstrap, changelog)["cleanup.policy"] == "compact"
    assert "cleanup.policy" not in _config(kafka_broker.bootstrap, plain)  # the default: delete
    assert ensure_topics(kafka_broker.bootstrap, [plain], partitions=2, compacted=[changelog]) == []


def test_a_table_source_with_other_partitions_is_refused(kafka_broker):
    source = f"t-{uuid.uuid4().hex[:6]}-source"
    ensure_topics(kafka_broker.bootstrap, [source], partitions=2)
    with pytest.raises(ConfigError, match="PW_PARTITIONS=3"):
        ensure_topics(kafka_broker.bootstrap, [source], partitions=3, must_match=[source])
