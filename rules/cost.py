"""Daily cost (日均费用): the daily dose priced at the listing's pack price.

Two ways, as DAILY_DOSE.md allows: by count (unit price × `daily_count` when the count unit is
the pack's unit) or by content (price ÷ the pack's total weight or volume × `daily`, for a
syrup bottle or a jar of 膏). `cost_per_yuan` is the daily cost of 1 CNY of pack price, so a
price change reprices by one multiplication. Nothing is guessed: a missing step gives ``None``
and a `cost_reason`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from rules.dose import DoseResult
from rules.spec import S_UNIT, PackFacts, parse_pack
from rules.units import CONTAINER_UNITS, dimension, same_count_unit, to_base

__all__ = ["CostResult", "cost_listing", "daily_cost"]

Range = tuple[float, float]
_FORM_UNITS: Final = ("粒", "片", "丸", "袋", "包", "支", "贴", "锭", "枚")  # what an `s` of a pack can be


@dataclass(frozen=True)
class CostResult:
    """Pack facts and the daily cost of one listing (``None`` fields come with `cost_reason`)."""

    pack_qty: float | None = None
    min_unit: str | None = None
    unit_price: float | None = None
    cost_per_yuan: Range | None = None
    daily_cost: Range | None = None
    cost_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ranges become ``[min, max]`` lists."""
        return {
            "pack_qty": self.pack_qty,
            "min_unit": self.min_unit,
            "unit_price": self.unit_price,
            "cost_per_yuan": None if self.cost_per_yuan is None else list(self.cost_per_yuan),
            "daily_cost": None if self.daily_cost is None else list(self.daily_cost),
            "cost_reason": self.cost_reason,
        }


def daily_cost(daily_count: Range, *, pack_price: float, pack_qty: float) -> Range:
    """Daily cost in CNY: the daily count priced at one unit's share of the pack.

    Examples
    --------
    >>> daily_cost((6, 6), pack_price=18.0, pack_qty=36)   # 一次2粒，一日3次; 36粒 18元
    (3.0, 3.0)
    """
    return (round(pack_price * daily_count[0] / pack_qty, 4), round(pack_price * daily_count[1] / pack_qty, 4))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _resolve_unit(unit: str | None, dose: DoseResult) -> str | None:
    if unit != S_UNIT:
        return unit
    for candidate in (dose.count_unit, dose.unit):
        if candidate in _FORM_UNITS:
            return candidate
    return "粒"


def _pack_content(facts: PackFacts, qty: float | None, unit: str | None, dim: str) -> float | None:
    """Total weight (g) or volume (ml) of the pack, when the spec fixes it."""
    sizes = {round(c.base_per_unit, 9) for c in facts.contents if c.base_per_unit and dimension(c.measure) == dim}
    if len(sizes) != 1:
        return None
    content = next(c for c in facts.contents if c.base_per_unit and dimension(c.measure) == dim)
    per_unit = content.base_per_unit
    if qty is None:
        # a single container (250g/瓶) is the pack
        return per_unit if content.unit in CONTAINER_UNITS and content.per == 1 else None
    if unit is None or same_count_unit(unit, content.unit) or content.unit == S_UNIT or unit == content.unit:
        return per_unit * qty
    return None


def _scale(r: Range, factor: float, digits: int = 10) -> Range:
    return (float(f"{r[0] * factor:.{digits}g}"), float(f"{r[1] * factor:.{digits}g}"))


def cost_listing(dose: DoseResult, *, spec: str | None = None, package: str | None = None, pack_qty: Any = None,
                 min_unit: str | None = None, price: Any = None) -> CostResult:
    """Pack size, unit price and daily cost of one listing; never raises.

    Parameters
    ----------
    dose
        The product's `DoseResult`.
    spec, package
        规格 and 包装 texts: pack size and content when `pack_qty` / `min_unit` are not given.
    pack_qty, min_unit
        Units in the pack and the smallest unit's name, when the listing states them.
    price
        Pack price in CNY.

    Examples
    --------
    >>> from rules.dose import extract_daily_dose
    >>> dose = extract_daily_dose("口服。一次2粒，一日3次。", spec="每粒装0.3g")
    >>> c = cost_listing(dose, spec="0.3g*12粒*3板", price=18.0)
    >>> c.pack_qty, c.min_unit, c.unit_price, c.daily_cost
    (36.0, '粒', 0.5, (3.0, 3.0))
    >>> syrup = extract_daily_dose("口服，一次10～20ml，一日2次。", spec="糖浆剂。")
    >>> cost_listing(syrup, spec="100ml/瓶", price=20.0).daily_cost   # priced by volume
    (4.0, 8.0)
    """
    try:
        return _cost(dose, spec=spec, package=package, pack_qty=pack_qty, min_unit=min_unit, price=price)
    except Exception as exc:  # never raise on a listing
        return CostResult(cost_reason=f"costing error: {type(exc).__name__}")


def _cost(dose: DoseResult, *, spec: str | None, package: str | None, pack_qty: Any, min_unit: str | None,
          price: Any) -> CostResult:
    facts = parse_pack(spec if isinstance(spec, str) else None, package if isinstance(package, str) else None)
    qty = _number(pack_qty)
    unit = min_unit if isinstance(min_unit, str) and min_unit else None
    if qty is None:
        qty = facts.pack_qty
        unit = unit or facts.pack_unit
    unit = _resolve_unit(unit, dose)
    price_value = _number(price)
    unit_price = round(price_value / qty, 6) if price_value is not None and qty else None

    def result(per_yuan: Range | None, reason: str | None) -> CostResult:
        cost = None
        if per_yuan is not None and price_value is not None:
            cost = (round(per_yuan[0] * price_value, 4), round(per_yuan[1] * price_value, 4))
        if per_yuan is not None and price_value is None:
            reason = "no price"
        return CostResult(qty, unit, unit_price, per_yuan, cost, reason)

    if not dose.determinable or dose.daily is None:
        return result(None, f"dose not determinable: {dose.reason}")
    if dose.daily_count is not None and dose.count_unit and not qty and dimension(dose.unit) == "count":
        return result(None, "pack quantity not determinable")
    if dose.daily_count is not None and dose.count_unit and qty:
        count_unit = _resolve_unit(dose.count_unit, dose)
        if unit is None or same_count_unit(count_unit, unit):
            return result(_scale(dose.daily_count, 1 / qty), None)
    if dimension(dose.unit) == "count" and qty and same_count_unit(dose.unit, unit):
        return result(_scale(dose.daily, 1 / qty), None)
    dim = dimension(dose.unit)
    if dim in ("mass", "volume"):
        total = _pack_content(facts, qty, unit, dim)
        if total:
            daily_base = (to_base(dose.daily[0], dose.unit), to_base(dose.daily[1], dose.unit))
            return result(_scale(daily_base, 1 / total), None)
        return result(None, "pack content not determinable from spec/package")
    if not qty:
        return result(None, "pack quantity not determinable")
    return result(None, f"dose in {dose.count_unit or dose.unit}, pack counted in {unit}")
