"""Where alerts go besides Kafka: a capped Redis Stream to catch up from and a pub/sub channel to tail.

Kafka's `price.alerts` is the record of truth; Redis is a convenience for subscribers, so a Redis
outage is logged and counted but never stops the pipeline.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable

from prometheus_client import Counter

from rules.errors import ConfigError

__all__ = ["RedisAlertSink", "REDIS_ERRORS"]

logger = logging.getLogger(__name__)

REDIS_ERRORS = Counter("pricewatch_redis_errors_total", "Failed writes of alerts to Redis")


class RedisAlertSink:
    """XADD each alert to a capped stream and PUBLISH it, in one round trip per batch.

    Parameters
    ----------
    url
        Redis URL; connection is made in `setup()`, so a bad address fails at start-up.
    stream
        Stream key, capped at about `maxlen` entries (approximate trimming, cheap).
    channel
        Pub/sub channel for live subscribers.
    """

    def __init__(self, url: str, *, stream: str = "pricewatch:alerts", channel: str = "pricewatch:alerts:live",
                 maxlen: int = 100_000) -> None:
        self.url = url
        self.stream = stream
        self.channel = channel
        self.maxlen = maxlen
        self._client: Any = None

    async def setup(self) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
        try:
            await self._client.ping()
        except Exception as exc:
            raise ConfigError(f"cannot reach Redis at {self.url}: {exc} (set PW_REDIS_URL, or '' to disable)") from exc

    async def write(self, alerts: Iterable[dict[str, Any]]) -> bool:
        """True when every alert reached Redis; False (logged, counted) otherwise."""
        alerts = list(alerts)
        if not alerts or self._client is None:
            return True
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for alert in alerts:
                    payload = json.dumps(alert, ensure_ascii=False)
                    pipe.xadd(self.stream, {"alert_id": alert["alert_id"], "alert": payload},
                              maxlen=self.maxlen, approximate=True)
                    pipe.publish(self.channel, payload)
                await pipe.execute()
            return True
        except Exception as exc:  # Kafka already has the alert; Redis is best effort
            REDIS_ERRORS.inc(len(alerts))
            logger.warning("could not write %d alert(s) to Redis: %s", len(alerts), exc)
            return False

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
