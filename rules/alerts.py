"""Alert identity and the alert record of the event contract (EVENTS.md `price.alerts`)."""
from __future__ import annotations

import hashlib
from typing import Any, Final, Literal, Mapping

__all__ = ["AlertType", "Severity", "ALERT_TYPES", "SEVERITIES", "alert_id", "build_alert", "midpoint"]

AlertType = Literal[
    "peer_outlier", "price_jump", "hidden_increase", "cross_region_gap", "ratio_rule_violation", "dose_outlier"
]
Severity = Literal["low", "medium", "high", "critical"]
ALERT_TYPES: Final = (
    "peer_outlier", "price_jump", "hidden_increase", "cross_region_gap", "ratio_rule_violation", "dose_outlier"
)
SEVERITIES: Final = ("low", "medium", "high", "critical")
_PRODUCT_FIELDS: Final = ("product_id", "region", "generic_name", "manufacturer")


def alert_id(event_id: str, alert_type: str) -> str:
    """Stable id of the alert `alert_type` raised by `event_id`: subscribers de-duplicate on it.

    >>> alert_id("evt-1", "price_jump") == alert_id("evt-1", "price_jump")
    True
    >>> alert_id("evt-1", "price_jump") == alert_id("evt-1", "peer_outlier")
    False
    >>> len(alert_id("evt-1", "price_jump"))
    24
    """
    return hashlib.sha256(f"{event_id}|{alert_type}".encode()).hexdigest()[:24]


def midpoint(cost: Any) -> float | None:
    """Midpoint of a `[min, max]` daily cost, rounded to the fen-and-a-bit; None stays None.

    >>> midpoint([3.0, 4.0]), midpoint(None)
    (3.5, None)
    """
    if not cost:
        return None
    return round((float(cost[0]) + float(cost[1])) / 2, 4)


def build_alert(
    *, event: Mapping[str, Any], alert_type: str, severity: str, score: float,
    reference: Mapping[str, Any], explanation: str,
) -> dict[str, Any]:
    """The `price.alerts` record for a finding on `event` (an enriched event).

    >>> a = build_alert(event={"event_id": "e1", "ts": "2026-01-01T00:00:00+08:00", "product_id": "P1",
    ...     "region": "GD-SZ", "generic_name": "银杏叶片", "manufacturer": "甲厂", "daily_cost": [2.0, 3.0]},
    ...     alert_type="price_jump", severity="high", score=2.5, reference={"previous_price": 10.0},
    ...     explanation="价格由 10.00 元升至 25.00 元，涨幅 150%")
    >>> a["alert_id"] == alert_id("e1", "price_jump"), a["daily_cost"], a["severity"]
    (True, 2.5, 'high')
    """
    if alert_type not in ALERT_TYPES:
        raise ValueError(f'unknown alert type "{alert_type}"; known: {", ".join(ALERT_TYPES)}')
    if severity not in SEVERITIES:
        raise ValueError(f'unknown severity "{severity}"; known: {", ".join(SEVERITIES)}')
    return {
        "alert_id": alert_id(event["event_id"], alert_type),
        "event_id": event["event_id"],
        "ts": event["ts"],
        **{f: event.get(f) for f in _PRODUCT_FIELDS},
        "type": alert_type,
        "severity": severity,
        "score": round(float(score), 4),
        "daily_cost": midpoint(event.get("daily_cost")),
        "reference": dict(reference),
        "explanation": explanation,
    }
