"""Create the product's topics with explicit partition counts (Faust only creates its internal ones)."""
from __future__ import annotations

import logging
import time
from typing import Iterable

from rules.errors import ConfigError

__all__ = ["ensure_topics"]

logger = logging.getLogger(__name__)


def ensure_topics(bootstrap: str, names: Iterable[str], *, partitions: int, replication: int = 1,
                  timeout_s: float = 60.0) -> list[str]:
    """Create the missing topics; returns the names created. Existing topics are left as they are."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, NoBrokersAvailable, TopicAlreadyExistsError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pricewatch-admin",
                                     request_timeout_ms=15000)
            break
        except (NoBrokersAvailable, KafkaError) as exc:
            if time.monotonic() > deadline:
                raise ConfigError(f"no Kafka broker at {bootstrap}: {exc}") from exc
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=replication)])
                logger.info("created topic %s (%d partitions)", name, partitions)
            except TopicAlreadyExistsError:
                pass
        return missing
    finally:
        admin.close()
