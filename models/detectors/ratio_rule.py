"""`ratio_rule_violation`: one manufacturer's packs or strengths priced against the 差比价 rules."""
from __future__ import annotations

import math
from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import yuan
from models.detectors.siblings import SiblingBook
from rules.ratios import RATIO_RULES, RULESET_VERSION, expected_price, pack_kind, strength_kind
from rules.severity import DEVIATION_LADDER, severity_for

__all__ = ["RatioRule"]

_SAME = 0.02  # content ratios within 2 % of 1 are the same pack: nothing for the ratio rules


class RatioRule(Detector):
    """A new spec or pack priced above what the 差比价 rule allows from its sibling.

    On the first listing of a new product id, the same manufacturer's closest existing spec
    or pack (same form, same region where there is one) is the representative product; the
    rule ``K = a ** log2(X)`` (`rules.ratios`) gives the highest price the new one may have.
    A price more than `tolerance` above that ceiling alerts: a bigger pack dearer per unit
    than the rules allow, a stronger tablet priced over the strength ratio, and the like.

    Parameters
    ----------
    book
        The group's `SiblingBook` (shared with `HiddenIncrease`).
    tolerance
        Share by which a price may exceed the ceiling (list-price rounding).

    Examples
    --------
    >>> det = RatioRule(SiblingBook())
    >>> small = {"event_type": "listing", "product_id": "A12", "region": "GD-SZ", "manufacturer": "甲厂",
    ...          "dosage_form": "片剂", "spec": "0.25g*12片", "pack_qty": 12, "min_unit": "片", "price": 10.0,
    ...          "daily_cost": [2.5, 2.5]}
    >>> det.learn_one(small)
    >>> big = {**small, "product_id": "A24", "spec": "0.25g*24片", "pack_qty": 24, "daily_cost": None}
    >>> det.score_one({**big, "price": 19.0})    # within 1.95 × 10 元
    0.0
    >>> det.check_one({**big, "price": 25.0}).explanation
    '按差比价规则（K=1.95^log2X），0.25g*24片 价格应不高于 19.50 元（参照同企业 0.25g*12片 10.00 元），实际 25.00 元，超出 28%。'
    """

    alert_type = "ratio_rule_violation"

    def __init__(self, book: SiblingBook, tolerance: float = 0.05) -> None:
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        self.tolerance = tolerance
        self.book = book

    def learn_one(self, x: dict[str, Any]) -> None:
        self.book.learn_one(x)  # idempotent: the hidden-increase detector may learn the same event

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        if x.get("event_type") != "listing" or x["product_id"] in self.book:
            return None
        sibling = self.book.nearest(x)
        if not sibling or sibling["pack_ratio"] is None or sibling["strength_ratio"] is None:
            return None
        if abs(math.log(sibling["content_ratio"])) < _SAME:
            return None
        min_unit, dose_unit = x.get("min_unit") or sibling["min_unit"], sibling["dose_unit"]
        ceiling = expected_price(sibling["price"], pack_ratio=sibling["pack_ratio"],
                                 strength_ratio=sibling["strength_ratio"], min_unit=min_unit, dose_unit=dose_unit)
        excess = x["price"] / ceiling
        if excess <= 1 + self.tolerance:
            return None
        kinds = []
        if abs(math.log(sibling["pack_ratio"])) >= _SAME:
            kinds.append(pack_kind(min_unit))
        if abs(math.log(sibling["strength_ratio"])) >= _SAME:
            kinds.append(strength_kind(dose_unit, min_unit))
        formula = "，".join(f"K={RATIO_RULES[k].base:g}^log2X" for k in kinds)
        return Finding(
            type="ratio_rule_violation", severity=severity_for(excess, DEVIATION_LADDER), score=round(excess, 4),
            reference={"sibling_product_id": sibling["product_id"], "sibling_spec": sibling["spec"],
                       "sibling_price": sibling["price"], "expected_max_price": round(ceiling, 2),
                       "pack_ratio": round(sibling["pack_ratio"], 4),
                       "strength_ratio": round(sibling["strength_ratio"], 4), "rules": kinds,
                       "excess_ratio": round(excess, 4), "ruleset": RULESET_VERSION},
            explanation=(f"按差比价规则（{formula}），{x.get('spec') or x['product_id']} 价格应不高于 "
                         f"{yuan(ceiling)}（参照同企业 {sibling['spec'] or sibling['product_id']} "
                         f"{yuan(sibling['price'])}），实际 {yuan(x['price'])}，超出 {(excess - 1) * 100:.0f}%。"),
        )
