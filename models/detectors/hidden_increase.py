"""`hidden_increase`: a new spec or pack whose daily cost is well above the manufacturer's
existing listing, although its pack price looks ordinary."""
from __future__ import annotations

from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import times, yuan
from models.detectors.siblings import SiblingBook
from rules.severity import severity_for

__all__ = ["HiddenIncrease"]

_SHRINK = 0.9  # the new pack holds at least 10 % fewer daily doses: the rise hides in the content


class HiddenIncrease(Detector):
    """A manufacturer re-lists its drug in a pack holding less (fewer units, lower strength)
    at about the old pack price, so the price per day rises while the pack price does not.

    Fires on the *first* listing of a new product id when its daily cost is at least `ratio`
    × that of the same manufacturer's closest existing spec or pack (same form and region
    where there is one) while the new pack holds at least 10 % fewer days of treatment, so the
    pack price rose (if at all) much less than the daily cost. A bigger or stronger pack priced
    too high is a 差比价 matter (`RatioRule`), not a hidden increase.

    Parameters
    ----------
    book
        The group's `SiblingBook` (shared with `RatioRule`).
    ratio
        Daily-cost ratio to the sibling that alerts.

    Examples
    --------
    >>> det = HiddenIncrease(SiblingBook())
    >>> old = {"event_type": "listing", "product_id": "A24", "region": "GD-SZ", "manufacturer": "甲厂",
    ...        "dosage_form": "片剂", "spec": "0.25g*24片", "pack_qty": 24, "min_unit": "片", "price": 18.0,
    ...        "daily_cost": [1.5, 1.5]}
    >>> det.learn_one(old)
    >>> new = {**old, "product_id": "A12", "spec": "0.25g*12片", "pack_qty": 12, "price": 17.5,
    ...        "daily_cost": [2.9167, 2.9167]}
    >>> det.check_one(new).explanation
    '同企业新挂网规格 0.25g*12片 日均费用 2.92 元，为其已挂网规格 0.25g*24片 日均费用 1.50 元的 1.9 倍，而包装价格 17.50 元（原 18.00 元）看似正常，疑似变相涨价。'
    """

    alert_type = "hidden_increase"

    def __init__(self, book: SiblingBook, ratio: float = 1.5) -> None:
        if ratio <= 1:
            raise ValueError(f"ratio must be > 1, got {ratio}")
        self.ratio = ratio
        self.book = book

    def learn_one(self, x: dict[str, Any]) -> None:
        self.book.learn_one(x)  # idempotent: the ratio detector may learn the same event

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        if x.get("event_type") != "listing" or x["product_id"] in self.book:
            return None
        sibling = self.book.nearest(x)
        if not sibling or not sibling["cost_ratio"] or sibling["cost_ratio"] < self.ratio:
            return None
        if sibling["cost_content_ratio"] > _SHRINK:  # the pack price rose as much: visible, not hidden
            return None
        ratio = sibling["cost_ratio"]
        cost = sibling["daily_cost"] * ratio
        return Finding(
            type="hidden_increase", severity=severity_for(ratio), score=round(ratio, 4),
            reference={"sibling_product_id": sibling["product_id"], "sibling_spec": sibling["spec"],
                       "sibling_daily_cost": round(sibling["daily_cost"], 4), "sibling_price": sibling["price"],
                       "cost_ratio": round(ratio, 4), "price_ratio": round(sibling["price_ratio"], 4),
                       "content_ratio": round(sibling["cost_content_ratio"], 4)},
            explanation=(f"同企业新挂网规格 {x.get('spec') or x['product_id']} 日均费用 {yuan(cost)}，为其已挂网规格 "
                         f"{sibling['spec'] or sibling['product_id']} 日均费用 {yuan(sibling['daily_cost'])}的 "
                         f"{times(ratio)}，而包装价格 {yuan(x['price'])}（原 {yuan(sibling['price'])}）看似正常，"
                         f"疑似变相涨价。"),
        )
