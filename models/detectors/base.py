"""The finding a detector reports and the protocol every detector follows."""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from river.base import AnomalyDetector

__all__ = ["Finding", "Detector", "Severity", "AlertType"]

Severity = Literal["low", "medium", "high", "critical"]
AlertType = Literal[
    "peer_outlier", "price_jump", "hidden_increase", "cross_region_gap", "ratio_rule_violation", "dose_outlier"
]


@dataclass(frozen=True)
class Finding:
    """One suspected manipulation (or data problem) on one event.

    Parameters
    ----------
    type
        The alert type (EVENTS.md ``price.alerts``).
    severity
        ``low``, ``medium``, ``high`` or ``critical``.
    score
        Larger is more anomalous; each type documents its scale.
    reference
        What the event was compared with: peer median and n, previous price, other region's price …
    explanation
        One sentence in Chinese an analyst can act on.

    Examples
    --------
    >>> f = Finding("price_jump", "high", 2.4, {"previous_price": 10.0}, "挂网价由 10.00 元升至 24.00 元")
    >>> f.type, f.reference["previous_price"]
    ('price_jump', 10.0)
    """

    type: AlertType
    severity: Severity
    score: float
    reference: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""


class Detector(AnomalyDetector):
    """A River anomaly detector plus ``check_one``, which explains a score over the line.

    ``learn_one(x)`` updates state and returns None; ``score_one(x)`` only reads. Subclasses
    implement ``check_one``; ``score_one`` is its score, or 0 when nothing is over the line.
    Being River estimators, detectors keep their constructor arguments under their own names,
    so ``clone()`` gives a fresh copy (one per peer group) and ``repr`` shows the parameters.
    """

    alert_type: ClassVar[AlertType]

    @abstractmethod
    def learn_one(self, x: dict[str, Any]) -> None:
        """Update the state with event `x`."""

    @abstractmethod
    def check_one(self, x: dict[str, Any]) -> Finding | None:
        """The finding for event `x`, or None when it is not anomalous (read-only)."""

    def score_one(self, x: dict[str, Any]) -> float:
        """How anomalous `x` is: the finding's score, 0 when there is none."""
        finding = self.check_one(x)
        return finding.score if finding else 0.0
