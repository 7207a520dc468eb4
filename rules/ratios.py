"""差比价 (price-ratio) rules for one manufacturer's pack sizes and strengths, as versioned data.

The national rule (国家发展改革委《药品差比价规则》, 发改价格〔2011〕2452号) prices a
non-representative product from its representative one: ``K = a ** log2(X)``, where ``X`` is
the ratio of pack counts, strengths or fill volumes and ``a`` depends on what differs. With
``a < 2`` a bigger pack or a stronger tablet is allowed to cost *less than proportionally* more,
never more.

Every table row says where its value comes from. ``confirmed=False`` marks values taken from the
rule as it is commonly quoted (and from this project's brief), not checked here against the
published text of the rule; replace them with a new ``RULESET`` version when they are checked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, Mapping

__all__ = [
    "RatioKind", "RatioRule", "RULESET_VERSION", "RATIO_RULES", "ORAL_SOLID_UNITS", "VOLUME_UNITS",
    "FILLED_UNITS", "pack_kind", "strength_kind", "ratio_factor", "expected_price",
]

RatioKind = Literal["pack_count_oral_solid", "pack_count_other", "strength", "fill_volume"]


@dataclass(frozen=True)
class RatioRule:
    """One row of the ratio table: ``K = base ** log2(X)``."""

    kind: RatioKind
    base: float
    source: str
    confirmed: bool


RULESET_VERSION: Final = "NDRC-2011-2452/v1"
_SOURCE: Final = "发改价格〔2011〕2452号《药品差比价规则》"
RATIO_RULES: Final[Mapping[str, RatioRule]] = MappingProxyType({
    "pack_count_oral_solid": RatioRule("pack_count_oral_solid", 1.95, f"{_SOURCE} 包装数量差比价（口服固体）", False),
    "pack_count_other": RatioRule("pack_count_other", 2.0, f"{_SOURCE} 包装数量差比价（其他剂型，按比例）", False),
    "strength": RatioRule("strength", 1.7, f"{_SOURCE} 含量差比价", False),
    "fill_volume": RatioRule("fill_volume", 1.9, f"{_SOURCE} 装量差比价", False),
})

# Units that count an oral solid (片, 粒 …) and units that measure a fill (ml, g …).
ORAL_SOLID_UNITS: Final = frozenset("片 粒 丸 袋 包 锭 块 枚 s".split())
VOLUME_UNITS: Final = frozenset("ml g mg L kg".split())
# Units whose amount is a fill (每袋装10g, 10ml/支), not the strength of a tablet or capsule.
FILLED_UNITS: Final = frozenset("袋 包 支 瓶".split())


def pack_kind(min_unit: str | None) -> RatioKind:
    """Which pack-count rule applies to packs counted in `min_unit`.

    >>> pack_kind("片"), pack_kind("ml"), pack_kind("支")
    ('pack_count_oral_solid', 'fill_volume', 'pack_count_other')
    """
    if min_unit in ORAL_SOLID_UNITS:
        return "pack_count_oral_solid"
    if min_unit in VOLUME_UNITS:
        return "fill_volume"
    return "pack_count_other"


def strength_kind(dose_unit: str | None, min_unit: str | None = None) -> RatioKind:
    """Which rule applies when the amount in one unit differs: 装量 for a liquid or a filled
    sachet or vial (袋, 支 …), else 含量 (strength).

    >>> strength_kind("mg", "片"), strength_kind("ml"), strength_kind("g", "袋")
    ('strength', 'fill_volume', 'fill_volume')
    """
    return "fill_volume" if dose_unit in ("ml", "L") or min_unit in FILLED_UNITS else "strength"


def ratio_factor(x: float, kind: RatioKind) -> float:
    """The price factor ``K = a ** log2(x)`` for a content ratio `x` (non-representative / representative).

    >>> round(ratio_factor(2, "pack_count_oral_solid"), 4), round(ratio_factor(0.5, "strength"), 4)
    (1.95, 0.5882)
    >>> ratio_factor(1, "fill_volume")
    1.0
    """
    if x <= 0:
        raise ValueError(f"content ratio must be positive, got {x}")
    return RATIO_RULES[kind].base ** math.log2(x)


def expected_price(reference_price: float, *, pack_ratio: float = 1.0, strength_ratio: float = 1.0,
                   min_unit: str | None = None, dose_unit: str | None = None) -> float:
    """The highest price the ratio rules allow, from a sibling's price and the content ratios.

    Parameters
    ----------
    reference_price
        The sibling (representative) product's pack price.
    pack_ratio
        Units per pack of this product over the sibling's.
    strength_ratio
        Amount per unit of this product over the sibling's (strength or fill).
    min_unit
        The unit packs are counted in (picks the pack-count rule).
    dose_unit
        The unit of the amount per unit (picks strength or fill volume).

    Examples
    --------
    >>> round(expected_price(10.0, pack_ratio=2, min_unit="片"), 2)   # 24片 from 12片 at 10 元
    19.5
    >>> round(expected_price(10.0, pack_ratio=2, strength_ratio=2, min_unit="粒", dose_unit="mg"), 2)
    33.15
    """
    return (reference_price * ratio_factor(pack_ratio, pack_kind(min_unit))
            * ratio_factor(strength_ratio, strength_kind(dose_unit, min_unit)))
