"""`cross_region_gap`: the same product priced far higher in one region than in another."""
from __future__ import annotations

import math
from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import times, yuan
from rules.severity import severity_for

__all__ = ["CrossRegionGap"]


class CrossRegionGap(Detector):
    """The event's regional price against the product's cheapest price in another region.

    Alerts when an event *opens* a gap: the new price is at least `ratio` × the cheapest
    other region (NHSA's 1.5× line) while the region's price before the event was under that
    line (or the region is new). A region left high because another region cut its price is
    not re-reported on every small move afterwards, and cuts never alert; a price change opens
    a gap only with a rise of at least `min_rise` (an ordinary move, or one step of a creeping
    run, that tips a gap another region's cut left just under the line is reported as what it
    is, if anything, not as a regional gap). The state is the
    product's last price per region, a JSON-able dict: `bind` it before use.

    Parameters
    ----------
    ratio
        The gap that alerts, as a multiple of the cheapest other region.
    min_rise
        Least rise (new / previous price in the region) of a price change that opens a gap.

    Examples
    --------
    >>> det = CrossRegionGap().bind({})
    >>> det.learn_one({"region": "ZJ-HZ", "price": 15.0})
    >>> f = det.check_one({"region": "GD-SZ", "price": 30.0})
    >>> f.severity, f.reference["other_region"], f.explanation
    ('medium', 'ZJ-HZ', 'GD-SZ 挂网价 30.00 元，为同产品 ZJ-HZ 挂网价 15.00 元的 2.0 倍，超过 1.5 倍区域价差红线，请核查。')
    >>> det.score_one({"region": "GD-SZ", "price": 20.0})
    0.0
    """

    alert_type = "cross_region_gap"

    def __init__(self, ratio: float = 1.5, min_rise: float = 1.2) -> None:
        if ratio <= 1 or min_rise < 1:
            raise ValueError(f"need ratio > 1 and min_rise >= 1, got {ratio} and {min_rise}")
        self.ratio = ratio
        self.min_rise = min_rise
        self._state: dict[str, Any] = {}

    def bind(self, state: dict[str, Any]) -> CrossRegionGap:
        """Work on `state` (a product's JSON-able dict, updated in place) from now on."""
        self._state = state
        return self

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        prices: dict[str, float] = self._state.get("prices", {})
        region, price = x.get("region"), x.get("price")
        if not price or len(prices) - (region in prices) < 1:
            return None
        other_region, other = None, math.inf
        for r, p in prices.items():
            if r != region and 0 < p < other:
                other_region, other = r, p
        if other_region is None:
            return None
        gap = price / other
        before = prices.get(region)
        if gap < self.ratio or (before is not None and (before / other >= self.ratio or price < before * self.min_rise)):
            return None
        return Finding(
            type="cross_region_gap", severity=severity_for(gap), score=round(gap, 4),
            reference={"other_region": other_region, "other_region_price": other, "previous_price": before,
                       "ratio": round(gap, 4), "regions": len(prices) + (region not in prices)},
            explanation=(f"{region} 挂网价 {yuan(price)}，为同产品 {other_region} 挂网价 {yuan(other)}的 "
                         f"{times(gap)}，超过 {self.ratio:g} 倍区域价差红线，请核查。"),
        )

    def learn_one(self, x: dict[str, Any]) -> None:
        if x.get("price") and x.get("region"):
            self._state.setdefault("prices", {})[x["region"]] = x["price"]
