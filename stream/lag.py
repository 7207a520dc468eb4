"""Consumer lag per partition (end offset minus committed offset), exported as a gauge."""
from __future__ import annotations

import logging
from typing import Any

from stream import metrics

__all__ = ["export_consumer_lag"]

logger = logging.getLogger(__name__)


async def export_consumer_lag(app: Any, settings: Any = None) -> dict[tuple[str, int], int]:
    """Set `pricewatch_consumer_lag{topic,partition}` for every partition this worker holds."""
    consumer = app.consumer
    lags: dict[tuple[str, int], int] = {}
    try:
        assigned = list(consumer.assignment())
        if not assigned:
            return lags
        ends = await consumer.highwaters(*assigned)
        for tp in assigned:
            committed = consumer._committed_offset.get(tp)  # Faust keeps no public accessor
            end = ends.get(tp)
            if end is None:
                continue
            lag = max(0, int(end) - int(committed if committed is not None else 0))
            lags[(tp.topic, tp.partition)] = lag
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
    except Exception as exc:  # a lag probe must never hurt the worker
        logger.debug("consumer lag not available: %s", exc)
    return lags
