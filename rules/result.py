"""The result of the daily-dose rules: `DoseResult`, with the DAILY_DOSE.md fields and how it was found.

Ranges are ``(min, max)`` tuples in Python and ``[min, max]`` lists in JSON (`to_dict` / `from_dict`).
`rules.dose` builds results with `determinable_result` and `not_determinable`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["DoseResult", "determinable_result", "not_determinable", "sig4", "tidy"]

Range = tuple[float, float]


def sig4(x: float) -> float:
    """`x` rounded to 4 significant figures (DAILY_DOSE.md rounds `daily_count` so).

    Examples
    --------
    >>> sig4(1.333333), sig4(216.66666)
    (1.333, 216.7)
    """
    if x == 0 or not math.isfinite(x):
        return x
    if -10_000 < x < 10_000 and x == int(x):  # a whole number of at most 4 digits is already exact
        return float(x)
    return float(f"{x:.4g}")


def tidy(x: float) -> float | int:
    """`x` as an int when it is whole (for JSON and for the `why` text).

    Examples
    --------
    >>> tidy(6.0), tidy(0.25)
    (6, 0.25)
    """
    x = round(x, 6)
    return int(x) if x == int(x) else x


def _range_list(r: Range | None) -> list | None:
    return None if r is None else [tidy(r[0]), tidy(r[1])]


@dataclass(frozen=True)
class DoseResult:
    """The daily dose of one product, with the DAILY_DOSE.md fields and how it was found.

    Examples
    --------
    >>> r = DoseResult(True, None, (2.0, 2.0), (3.0, 3.0), (6.0, 6.0), "粒", (6.0, 6.0), "粒")
    >>> r.to_dict()["daily"], DoseResult.from_dict(r.to_dict()) == r
    ([6, 6], True)
    """

    determinable: bool
    reason: str | None = None
    per_dose: Range | None = None
    times_per_day: Range | None = None
    daily: Range | None = None
    unit: str | None = None
    daily_count: Range | None = None
    count_unit: str | None = None
    method: str = "rules"
    confidence: float = 0.0
    clause: str | None = None
    why: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ranges become ``[min, max]`` lists."""
        # Written out rather than dataclasses.asdict, which deep-copies and costs ~20x more
        # on the stream's hot path.
        return {
            "determinable": self.determinable, "reason": self.reason,
            "per_dose": _range_list(self.per_dose), "times_per_day": _range_list(self.times_per_day),
            "daily": _range_list(self.daily), "unit": self.unit,
            "daily_count": _range_list(self.daily_count), "count_unit": self.count_unit,
            "method": self.method, "confidence": round(self.confidence, 3), "clause": self.clause, "why": self.why,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DoseResult:
        """Inverse of `to_dict` (lists back to tuples); unknown keys are ignored."""

        def rng(value: Any) -> Range | None:
            if value is None:
                return None
            lo, hi = value
            return (float(lo), float(hi))

        return cls(
            determinable=bool(d.get("determinable")),
            reason=d.get("reason"),
            per_dose=rng(d.get("per_dose")),
            times_per_day=rng(d.get("times_per_day")),
            daily=rng(d.get("daily")),
            unit=d.get("unit"),
            daily_count=rng(d.get("daily_count")),
            count_unit=d.get("count_unit"),
            method=d.get("method") or "rules",
            confidence=float(d.get("confidence") or 0.0),
            clause=d.get("clause"),
            why=d.get("why"),
        )


def determinable_result(per_dose: Range | None, times: Range | None, daily: Range, unit: str, count: Range | None,
                  count_unit: str | None, confidence: float, clause: str, why: str) -> DoseResult:
    """A determinable `DoseResult`, built without the frozen dataclass's per-field ``__setattr__``
    (a third of the result's cost on the fast path); the same object the constructor gives.

    Examples
    --------
    >>> r = determinable_result((2.0, 2.0), (3.0, 3.0), (6.0, 6.0), "粒", None, None, 0.95, "一次2粒", "single regimen")
    >>> r == DoseResult(True, None, (2.0, 2.0), (3.0, 3.0), (6.0, 6.0), "粒", confidence=0.95, clause="一次2粒",
    ...                 why="single regimen")
    True
    """
    result = object.__new__(DoseResult)
    result.__dict__.update(
        determinable=True, reason=None, per_dose=per_dose, times_per_day=times, daily=daily, unit=unit,
        daily_count=count, count_unit=count_unit, method="rules", confidence=confidence, clause=clause, why=why,
    )
    return result


def not_determinable(reason: str, why: str, confidence: float = 0.7, clause: str | None = None) -> DoseResult:
    """A not-determinable `DoseResult` with its DAILY_DOSE.md reason.

    Examples
    --------
    >>> not_determinable("no_frequency", "selected regimen has no frequency").to_dict()["reason"]
    'no_frequency'
    """
    return DoseResult(False, reason, confidence=confidence, clause=clause, why=why)
