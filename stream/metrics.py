"""Prometheus metrics of the worker, defined once; every module records through these objects."""
from __future__ import annotations

import functools
from typing import Any, Final

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "EVENTS_IN", "EVENTS_OUT", "DEADLETTERS", "EXTRACTIONS", "EXTRACTION_CONFIDENCE",
    "LLM_LATENCY", "LLM_ERRORS", "DAILY_COST", "ALERTS", "END_TO_END_LATENCY", "CONSUMER_LAG", "PARKED",
    "labelled",
]

EVENTS_IN = Counter("pricewatch_events_in_total", "Events consumed, by topic", ["topic"])
EVENTS_OUT = Counter("pricewatch_events_out_total", "Events produced, by topic", ["topic"])
DEADLETTERS = Counter("pricewatch_deadletters_total", "Events dead-lettered, by reason", ["reason"])
EXTRACTIONS = Counter(
    "pricewatch_extractions_total", "Daily-dose extractions, by method and outcome", ["method", "determinable"]
)
EXTRACTION_CONFIDENCE = Histogram(
    "pricewatch_extraction_confidence", "Confidence of daily-dose extractions", ["method"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
LLM_LATENCY = Histogram(
    "pricewatch_llm_latency_seconds", "LLM request latency",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
LLM_ERRORS = Counter("pricewatch_llm_errors_total", "LLM failures, by kind", ["kind"])
LLM_ERROR_KINDS: Final = ("timeout", "circuit_open", "unavailable", "bad_answer", "ungrounded", "other")
for _kind in LLM_ERROR_KINDS:  # export zeros from start-up: "no LLM errors" shows as 0, not as a gap
    LLM_ERRORS.labels(_kind)
DAILY_COST = Histogram(
    "pricewatch_daily_cost_cny", "Daily cost (midpoint, CNY/day) of enriched events, by dosage form",
    ["dosage_form"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
ALERTS = Counter("pricewatch_alerts_total", "Alerts emitted, by type and severity", ["type", "severity"])
END_TO_END_LATENCY = Histogram(
    "pricewatch_end_to_end_latency_seconds", "From the event's arrival in Kafka to its outputs sent",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PARKED = Counter(
    "pricewatch_parked_price_changes_total", "Price changes that arrived before their product's listing and waited"
)
CONSUMER_LAG = Gauge(
    "pricewatch_consumer_lag", "End offset minus committed offset, per topic and partition", ["topic", "partition"]
)


@functools.lru_cache(maxsize=4096)
def labelled(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, looked up once per label set: `labels()` locks and allocates per call.

    For the hot path, and only for series that are never removed (a removed series' cached child
    would no longer be exported).
    """
    return metric.labels(*values)
