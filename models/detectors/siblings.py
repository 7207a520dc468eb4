"""One manufacturer's other specs and packs of the same drug: the shared state of the
`hidden_increase` and `ratio_rule_violation` detectors."""
from __future__ import annotations

import math
import re
from typing import Any, Final

from models.detectors.robust import peer_form, median, mid

__all__ = ["SiblingBook", "Comparison", "strength_of", "spec_strength"]

# Amount units to one scale, so strengths written in g and mg compare.
_UNIT_SCALE: Final = {"g": 1000.0, "mg": 1.0, "μg": 0.001, "ug": 0.001, "mcg": 0.001, "ml": 1.0, "L": 1000.0}
_SAME: Final = 0.02  # log ratios under 2 % are "the same content"
# Fallback when the dose does not give the strength: the first amount printed in the spec.
_SPEC_AMOUNT: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|g|μg|ug|mcg|ml|L)(?![a-zA-Z])")

Comparison = dict[str, Any]


def strength_of(x: dict[str, Any]) -> float | None:
    """Amount of drug in one counted unit (mg or ml), from the daily dose and daily count.

    >>> strength_of({"daily": [1.0, 1.0], "unit": "g", "daily_count": [4, 4], "count_unit": "片"})
    250.0
    >>> strength_of({"daily": [6, 6], "unit": "片", "daily_count": [6, 6], "count_unit": "片"}) is None
    True
    """
    scale = _UNIT_SCALE.get(x.get("unit") or "")
    daily, count = mid(x.get("daily")), mid(x.get("daily_count"))
    if scale is None or not daily or not count:
        return None
    return daily * scale / count


def spec_strength(spec: str | None) -> float | None:
    """The first amount in a spec, in mg or ml (``0.25g*12片`` → 250.0), or None.

    >>> spec_strength("0.25g*12片"), spec_strength("10ml*6支"), spec_strength("24片")
    (250.0, 10.0, None)
    """
    found = _SPEC_AMOUNT.search(spec or "")
    return float(found.group(1)) * _UNIT_SCALE[found.group(2)] if found else None


class SiblingBook:
    """Per product: manufacturer, form, pack facts, and its price and daily cost per region.

    Examples
    --------
    >>> book = SiblingBook()
    >>> book.learn_one({"product_id": "A12", "region": "GD-SZ", "manufacturer": "甲厂", "dosage_form": "片剂",
    ...     "spec": "0.25g*12片", "pack_qty": 12, "min_unit": "片", "price": 18.0, "daily_cost": [9.0, 9.0]})
    >>> c = book.nearest({"product_id": "A6", "region": "GD-SZ", "manufacturer": "甲厂", "dosage_form": "片剂",
    ...     "spec": "0.25g*6片", "pack_qty": 6, "min_unit": "片", "price": 18.0, "daily_cost": [18.0, 18.0]})
    >>> c["pack_ratio"], c["strength_ratio"], c["cost_ratio"], c["price_ratio"]
    (0.5, 1.0, 2.0, 1.0)
    """

    def __init__(self) -> None:
        self._products: dict[str, dict[str, Any]] = {}

    def __contains__(self, product_id: str) -> bool:
        return product_id in self._products

    def prices(self, product_id: str) -> dict[str, float]:
        """The product's known price per region."""
        return self._products.get(product_id, {}).get("prices", {})

    def lists_manufacturer(self, x: dict[str, Any]) -> bool:
        """Whether the manufacturer of `x` already lists a product of this form in the group."""
        own, form = x.get("manufacturer") or "", peer_form(x.get("dosage_form"))
        return any(f["manufacturer"] == own and f["form"] == form for f in self._products.values())

    def learn_one(self, x: dict[str, Any]) -> None:
        pid = x["product_id"]
        facts = self._products.get(pid)
        if facts is None or x.get("event_type", "listing") == "listing":
            facts = {
                "manufacturer": x.get("manufacturer") or "", "form": peer_form(x.get("dosage_form")),
                "spec": x.get("spec"), "pack_qty": x.get("pack_qty"), "min_unit": x.get("min_unit"),
                "strength": strength_of(x), "dose_unit": x.get("unit"),
                "prices": (facts or {}).get("prices", {}), "costs": (facts or {}).get("costs", {}),
            }
            self._products[pid] = facts
        region = x.get("region") or ""
        if x.get("price"):
            facts["prices"][region] = x["price"]
        cost = mid(x.get("daily_cost"))
        if cost:
            facts["costs"][region] = cost

    def nearest(self, x: dict[str, Any]) -> Comparison | None:
        """`x` against the same manufacturer's closest other spec or pack (same form), or None."""
        own, form, pid = x.get("manufacturer") or "", peer_form(x.get("dosage_form")), x["product_id"]
        best: Comparison | None = None
        for other_id, facts in self._products.items():
            if other_id == pid or facts["manufacturer"] != own or facts["form"] != form or not facts["prices"]:
                continue
            comparison = self._compare(x, other_id, facts)
            if comparison and (best is None or comparison["_distance"] < best["_distance"]):
                best = comparison
        return best

    @staticmethod
    def _in_region(values: dict[str, float], region: str) -> float | None:
        if not values:
            return None
        return values.get(region) or median(list(values.values()))

    def _compare(self, x: dict[str, Any], other_id: str, facts: dict[str, Any]) -> Comparison | None:
        region, price = x.get("region") or "", x.get("price")
        other_price = self._in_region(facts["prices"], region)
        if not price or not other_price:
            return None
        cost, other_cost = mid(x.get("daily_cost")), self._in_region(facts["costs"], region)
        cost_ratio = cost / other_cost if cost and other_cost else None
        price_ratio = price / other_price
        pack_ratio = (x["pack_qty"] / facts["pack_qty"]) if x.get("pack_qty") and facts["pack_qty"] else None
        # Strength ratio for the 差比价 rule: from the doses, else from the specs, else what the
        # daily costs imply (daily cost = price / content), else "the same" when no spec prints one.
        strength, other_strength = strength_of(x), facts["strength"]
        spec_amount, other_spec_amount = spec_strength(x.get("spec")), spec_strength(facts["spec"])
        cost_content = price_ratio / cost_ratio if cost_ratio else None
        if strength and other_strength:
            strength_ratio = strength / other_strength
        elif spec_amount and other_spec_amount:
            strength_ratio = spec_amount / other_spec_amount
        elif cost_content and pack_ratio:
            strength_ratio = cost_content / pack_ratio
        else:
            strength_ratio = 1.0 if spec_amount is None and other_spec_amount is None else None
        if strength_ratio is not None and abs(math.log(strength_ratio)) < _SAME:
            strength_ratio = 1.0
        content = (pack_ratio or 1.0) * (strength_ratio or 1.0)
        return {
            "product_id": other_id, "spec": facts["spec"], "pack_qty": facts["pack_qty"],
            "min_unit": facts["min_unit"], "dose_unit": facts["dose_unit"] or x.get("unit"),
            "price": other_price, "daily_cost": other_cost, "price_ratio": price_ratio, "cost_ratio": cost_ratio,
            "pack_ratio": pack_ratio, "strength_ratio": strength_ratio, "content_ratio": content,
            "cost_content_ratio": cost_content,
            "_distance": abs(math.log(content)),
        }
