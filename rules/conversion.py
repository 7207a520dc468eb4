"""Converting a daily amount to the spec's countable unit (`daily_count`), by DAILY_DOSE.md.

`每粒装0.3g` with a dose in g → 粒 = g / 0.3; `10ml/支` with a dose in ml → 支 = ml / 10; a dose
already in 粒/片/袋 … keeps its unit when the spec counts the same thing (粒 ≡ 丸, 袋 ≡ 包). Spec
lines of another form or route, several sizes, or a multi-dose container give no count.
"""
from __future__ import annotations

from typing import Final

from rules.forms import FORMS_BY_NAME, Form, form_match
from rules.regimen import Range, Regimen
from rules.result import sig4, tidy
from rules.spec import S_UNIT, PackFacts, UnitContent
from rules.units import CONTAINER_UNITS, MULTI_DOSE_UNITS, PIECE_UNITS, dimension, same_count_unit, to_base

__all__ = ["count_daily"]


_IMPLIED_FORM: Final = {"丸": "大蜜丸"}  # 每丸重9g describes a 大蜜丸
# units that name a dosage form's piece (粒 a capsule, 片 a tablet); 枚 names any piece
_FORM_UNITS: Final = frozenset(f.unit for f in FORMS_BY_NAME.values() if f.unit)
# a piece holding more than this many days (饮片) or applications (a gel tube) is bulk, sold by content
_BULK: Final = 5


def _resolve_s(unit: str, dose_unit: str | None, product: Form | None, facts: PackFacts) -> str:
    """`s` in `0.3g*12s`: the unit the dose counts in, else the product form's, else 粒."""
    if unit != S_UNIT:
        return unit
    if dose_unit in PIECE_UNITS:
        return dose_unit
    if product is not None and product.unit in PIECE_UNITS:
        return product.unit
    for u in facts.count_units:
        if u in ("粒", "片", "丸"):
            return u
    return "粒"


_MAX_PILLS_PER_DOSE_G: Final = 30.0  # no oral dose of 粒/丸/片 weighs more; beyond it the spec's unit is another thing


def _implausible_piece(reg: Regimen, spec_unit: str, dose_unit: str, facts: PackFacts, product: Form | None) -> bool:
    """`3g*30s` with 一次20～30粒: the spec's 3 g piece is not the dose's pill (a 60 g dose is no dose)."""
    if dose_unit not in ("粒", "丸", "片") or reg.kind == "daily":
        return False
    weights = [c.base_per_unit for c in facts.contents
               if _resolve_s(c.unit, dose_unit, product, facts) == spec_unit and dimension(c.measure) == "mass"
               and not (c.form and reg.form and form_match(reg.form, FORMS_BY_NAME[c.form]) == 0)]  # another pill's line
    return bool(weights) and all(w and w * reg.amount[1] > _MAX_PILLS_PER_DOSE_G for w in weights)


def _same_first(units: list[str], unit: str) -> list[str]:
    return sorted(units, key=lambda u: u != unit)  # the dose's own spelling first (stable otherwise)


def count_daily(reg: Regimen, daily: Range, unit: str, facts: PackFacts,
                product: Form | None) -> tuple[Range | None, str | None, str]:
    """`daily` (in `unit`) in the spec's countable unit: ``(daily_count, count_unit, why)``.

    A dose already in a countable unit keeps it (named as the spec names it); a weight or volume
    is divided by the one per-unit content of the spec lines that belong to the regimen's form and
    route. ``(None, None, why)`` when the spec does not fix one.

    Examples
    --------
    >>> from rules.spec import parse_pack
    >>> reg = Regimen(index=0, start=0, end=5, kind="dose", amount=(6.0, 6.0), unit="g")
    >>> count_daily(reg, (12.0, 18.0), "g", parse_pack("水丸。每100粒重6g。"), None)
    ((200.0, 300.0), '粒', '6g/100粒')
    """
    dim = dimension(unit)
    if dim == "count":
        if unit in MULTI_DOSE_UNITS and facts.described:  # 一次2揿 beside 200揿/瓶: a puff is no single-dose unit
            return None, None, f"{unit} is no single-dose unit"
        # units of spec lines that belong to another form (冲剂：每袋12g beside a 蜜丸 dose) do not count
        own = reg.form or product
        foreign = {c.unit for c in facts.contents
                   if own is not None and c.form and FORMS_BY_NAME[c.form].family != own.family}
        foreign -= {c.unit for c in facts.contents if not c.form or own is None or FORMS_BY_NAME[c.form].family == own.family}
        # units the texts name come before what an `s` stands for (6g*10s with 10粒/盒: 粒)
        named = _same_first([u for u in facts.count_units if u not in foreign and u != S_UNIT], unit)
        named += _same_first([_resolve_s(u, unit, product, facts) for u in facts.count_units if u == S_UNIT], unit)
        if unit in CONTAINER_UNITS:
            return daily, unit, "dose stated in the container"
        named = [u for u in named if u not in CONTAINER_UNITS]
        if not named:
            if unit in _FORM_UNITS and product is not None and product.unit and product.unit not in CONTAINER_UNITS \
                    and not same_count_unit(product.unit, unit) and (reg.form is None or not same_count_unit(reg.form.unit, unit)):
                return None, None, f"product counts {product.unit}, dose in {unit}"  # 每次2粒 of a 片剂
            return daily, unit, "dose already in a countable unit"
        for u in named:  # the same spelling first, then 粒 ≡ 丸, 袋 ≡ 包
            if not same_count_unit(u, unit):
                continue
            if _implausible_piece(reg, u, unit, facts, product):
                return None, None, f"spec's {u} weighs too much to be the dose's {unit}"
            return daily, u, "dose already in the spec's unit" if u == unit else f"{unit} counted as the spec's {u}"
        return None, None, f"spec counts {'/'.join(named)}, dose in {unit}"
    if dim not in ("mass", "volume"):
        return None, None, f"no conversion for {unit}"
    base = to_base(1.0, unit)
    candidates: list[tuple[UnitContent, str | None]] = []
    for c in facts.contents:
        per_unit = c.base_per_unit
        if per_unit is None or dimension(c.measure) != dim or per_unit <= 0:
            continue
        tag = c.form or (_IMPLIED_FORM.get(c.unit) if c.per == 1 and dim == "mass" else None)
        tag_form = FORMS_BY_NAME.get(tag) if tag else None
        if tag_form and reg.form is not None and form_match(reg.form, tag_form) == 0 and form_match(tag_form, reg.form) == 0:
            continue
        candidates.append((c, tag))
    exact = [(c, t) for c, t in candidates if reg.form is not None and c.form == reg.form.name]
    if exact:
        candidates = exact  # 缓释片 dose: the 缓释片 line, not the 片剂 ones (and the reverse)
    # The spec must belong to the chosen regimen's route: an oral regimen skips the injection, suppository
    # and cream lines (片剂：0.15g。栓剂：0.5g。), an injection the rest; a regimen of no known route only
    # the injection lines.
    route = reg.route or (product.route if product is not None else None)
    same_route = [(c, t) for c, t in candidates if c.form is None or (
        FORMS_BY_NAME[c.form].route == route if route else FORMS_BY_NAME[c.form].route != "injection")]
    if same_route:
        candidates = same_route
    candidates = [(c, t) for c, t in candidates if c.unit not in MULTI_DOSE_UNITS]  # 每揿100μg: no single-dose unit
    pills = [(c, t) for c, t in candidates if c.unit in ("丸", "粒") and c.per > 1]
    if pills and all(c.unit in CONTAINER_UNITS or (c, t) in pills for c, t in candidates):
        candidates = pills  # 每瓶装36g(每20丸重1g): the bottle holds the pills the dose counts
    elif pills and all(c.unit in ("袋", "包") or (c, t) in pills for c, t in candidates):
        candidates = [(c, t) for c, t in candidates if (c, t) not in pills]  # 每袋装5g(每10丸重1g): the sachet
    if not candidates:
        return None, None, "spec gives no per-unit content"
    values = {round(c.base_per_unit, 9) for c, _ in candidates}
    if len(values) > 1:  # sizes named by population (胶囊(成人)：7mg。胶囊(儿童)：3.5mg): the regimen's own
        own = "child" if reg.population in ("child", "band") else reg.population
        tagged = [(c, t) for c, t in candidates if c.population == own]
        if tagged:
            candidates = tagged
            values = {round(c.base_per_unit, 9) for c, _ in candidates}
    if len(values) > 1:
        return None, None, "spec gives several sizes"
    content = candidates[0][0]
    count_unit = _resolve_s(content.unit, None, product, facts)
    units = {_resolve_s(c.unit, None, product, facts) for c, _ in candidates}
    if any(not same_count_unit(u, count_unit) for u in units):  # 片剂：100mg；胶囊：100mg
        if product is None or not any(same_count_unit(u, product.unit) for u in units):  # and no form chosen
            return None, None, f"spec counts {'/'.join(sorted(units))} alike"
        count_unit = next(u for u in units if same_count_unit(u, product.unit))  # 颗粒: 每袋装10g, not 每块重10g
    per_unit = content.base_per_unit
    if count_unit in CONTAINER_UNITS:
        # a stated daily total: the dose is the total over its split (一日4～6g，分4次), or all of it
        per_dose_max = reg.amount[1] * base if reg.kind != "daily" else daily[1] * base / (reg.split[0] if reg.split else 1)
        if per_unit > per_dose_max * 1.0001:
            return None, None, "container holds many doses: priced by content"
    elif reg.kind == "bare" and reg.times is None and per_unit > daily[1] * base * _BULK:  # 饮片 9～30g, 500g/袋
        return None, None, f"one {count_unit} lasts over {_BULK} days: sold by weight"
    elif route in ("external", "local") and reg.kind != "daily" and per_unit > reg.amount[1] * base * _BULK:
        return None, None, f"one {count_unit} holds many applications: priced by content"  # 一次2～3g of a 30g/支 gel
    lo, hi = daily[0] * base / per_unit, daily[1] * base / per_unit
    return (sig4(lo), sig4(hi)), count_unit, f"{tidy(content.amount)}{content.measure}/{tidy(content.per) if content.per != 1 else ''}{content.unit}"
