"""Create the product's topics with explicit partition counts (Faust only creates its internal ones)."""
from __future__ import annotations

import logging
import time
from typing import Iterable

from rules.errors import ConfigError

__all__ = ["ensure_topics"]

logger = logging.getLogger(__name__)


def ensure_topics(bootstrap: str, names: Iterable[str], *, partitions: int, replication: int = 1,
                  timeout_s: float = 60.0, must_match: Iterable[str] = (), compacted: Iterable[str] = ()) -> list[str]:
    """Create the missing topics; returns the names created.

    Existing topics are left as they are, except that those in `must_match` (the sources of
    tables) must have `partitions` partitions: a table's changelog has to line up with them.
    Topics in `compacted` (table changelogs) are created with `cleanup.policy=compact`, as Faust
    would create them; created here first, a worker's consumer never meets them half made.
    """
    compacted = set(compacted)
    names = list(dict.fromkeys([*names, *compacted]))
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pricewatch-admin",
                                     request_timeout_ms=15000)
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise ConfigError(f"no Kafka broker at {bootstrap}: {exc}") from exc
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        _check_partitions(admin, [n for n in must_match if n in existing], partitions)
        for name in missing:
            try:
                configs = {"cleanup.policy": "compact"} if name in compacted else {}
                admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=replication,
                                              topic_configs=configs)])
                logger.info("created topic %s (%d partitions)", name, partitions)
            except TopicAlreadyExistsError:
                pass
        # CreateTopics answers once the controller has the topic; the broker's metadata (and so a
        # consumer's assignment or a config lookup) may lag behind on KRaft: wait for every leader.
        remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
        try:
            admin.wait_for_topics(missing, timeout_ms=remaining_ms)
        except KafkaTimeoutError as exc:
            raise ConfigError(f"topics created but not ready on {bootstrap}: {exc}") from exc
        return missing
    finally:
        admin.close()


def _check_partitions(admin: object, names: list[str], partitions: int) -> None:
    if not names:
        return
    wrong = {}
    for topic in admin.describe_topics(names):
        count = len(topic.get("partitions") or [])
        if count != partitions:
            wrong[topic["name"]] = count
    if wrong:
        found = ", ".join(f"{name} has {count}" for name, count in sorted(wrong.items()))
        raise ConfigError(f"topic partitions differ from PW_PARTITIONS={partitions}: {found}. "
                          "Set PW_PARTITIONS to match, or recreate the topics.")
