"""Model answers cached in Redis, so the same insert is never sent to the model twice.

The key hashes what decides the answer: the normalised insert text, the spec, the model and
the prompt version. The value is the model's validated answer (not the final `DoseResult`),
so a change to the selection rules in code never serves a stale figure.

The cache is optional: when Redis is down every call answers "miss" / does nothing, and the
extractor goes on asking the model; after a failure it waits `retry_after_s` before trying
Redis again, so a dead Redis costs one connect timeout per pause, not one per insert.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Any, Final

__all__ = ["AnswerCache", "cache_key"]

logger = logging.getLogger(__name__)

KEY_PREFIX: Final = "pricewatch:llm:"


def cache_key(*, usage: str, spec: str | None, model: str, prompt_version: str) -> str:
    """The Redis key for one question: a SHA-256 over its parts, under one prefix.

    >>> key = cache_key(usage="口服，一次2粒，一日3次。", spec="每粒装0.3g", model="m", prompt_version="v1")
    >>> key.startswith("pricewatch:llm:"), len(key) - len("pricewatch:llm:")
    (True, 64)
    >>> key == cache_key(usage="口服，一次2粒，一日3次。", spec="每粒装0.3g", model="m", prompt_version="v2")
    False
    """
    parts = json.dumps([usage, spec or "", model, prompt_version], ensure_ascii=False)
    return KEY_PREFIX + hashlib.sha256(parts.encode()).hexdigest()


class AnswerCache:
    """Get and set JSON answers in Redis; every Redis failure is a miss, never an exception.

    Parameters
    ----------
    redis_url
        e.g. ``redis://localhost:6379/0``.
    ttl_s
        How long an answer is kept; a new model or prompt version changes the key anyway.
    timeout_s
        Connect and read timeout, short: the cache must never be slower than the model.
    retry_after_s
        After a Redis failure, seconds during which the cache is skipped.
    """

    def __init__(
        self, redis_url: str, *, ttl_s: int = 30 * 24 * 3600, timeout_s: float = 0.5, retry_after_s: float = 5.0
    ) -> None:
        self.redis_url = redis_url
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.errors = 0
        self._down_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._redis: Any = None

    def __repr__(self) -> str:
        return f"AnswerCache(redis_url={self.redis_url!r}, ttl_s={self.ttl_s})"

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:  # redis.asyncio pools belong to one loop
            import redis.asyncio as redis  # imported late: the rule-only paths do not need it

            self._redis = redis.Redis.from_url(
                self.redis_url, socket_connect_timeout=self.timeout_s, socket_timeout=self.timeout_s,
                decode_responses=True,
            )
            self._loop = loop
        return self._redis

    @property
    def available(self) -> bool:
        """False during the pause after a failure."""
        return time.monotonic() >= self._down_until

    def _failed(self, action: str, exc: Exception) -> None:
        self.errors += 1
        self._down_until = time.monotonic() + self.retry_after_s
        logger.warning("Redis %s failed (%s: %s); cache skipped for %.0f s", action, type(exc).__name__, exc,
                       self.retry_after_s)

    async def get(self, key: str) -> dict[str, Any] | None:
        if not self.available:
            return None
        try:
            raw = await self._client().get(key)
        except Exception as exc:  # any Redis or socket fault: a miss
            self._failed("get", exc)
            return None
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: dict[str, Any]) -> None:
        if not self.available:
            return
        try:
            await self._client().set(key, json.dumps(value, ensure_ascii=False), ex=self.ttl_s)
        except Exception as exc:
            self._failed("set", exc)

    async def aclose(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.aclose()
            except Exception:  # closing a pool whose server is gone
                pass
            self._redis = None
