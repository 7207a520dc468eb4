"""Severity ladders: how far over a reference line a finding is, as pure tables.

The price ladder uses the lines regulators use for prices out of line: 1.5× (NHSA's
挂网价格 consistency line, also the cross-region line), then 2×, 5× and 10× the reference.
"""
from __future__ import annotations

from typing import Final, Literal

__all__ = ["Severity", "PRICE_RATIO_LADDER", "JUMP_LADDER", "DEVIATION_LADDER", "DOSE_LADDER", "severity_for"]

Severity = Literal["low", "medium", "high", "critical"]

# (lowest ratio, severity), highest first; below the last line there is no finding at all.
PRICE_RATIO_LADDER: Final = ((10.0, "critical"), (5.0, "high"), (2.0, "medium"), (1.5, "low"))
# One product's own rise (price_jump): measured against its own previous price, so a rise to
# 1.5× is already "medium" and doubling is "high".
JUMP_LADDER: Final = ((5.0, "critical"), (2.0, "high"), (1.5, "medium"), (1.0, "low"))
# Dose outliers are routed for review, never reported as price findings: low or medium only.
DOSE_LADDER: Final = ((5.0, "medium"), (1.0, "low"))
# For breaches of a rule that already allows for the content (差比价): smaller excesses matter.
DEVIATION_LADDER: Final = ((5.0, "critical"), (2.0, "high"), (1.3, "medium"), (1.0, "low"))


def severity_for(ratio: float, ladder: tuple[tuple[float, str], ...] = PRICE_RATIO_LADDER) -> Severity:
    """The severity of `ratio` on `ladder`; ratios under the lowest line are "low".

    >>> severity_for(1.6), severity_for(4.5), severity_for(7.0), severity_for(12.0)
    ('low', 'medium', 'high', 'critical')
    >>> severity_for(1.2, DEVIATION_LADDER)
    'low'
    """
    return next((s for line, s in ladder if ratio >= line), "low")  # type: ignore[return-value]
