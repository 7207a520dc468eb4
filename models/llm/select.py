"""DAILY_DOSE.md applied in code to the regimens the model transcribed.

The model lists what the text says; this module picks one regimen by the contract's rules in
order (route / dosage form, adult or the oldest band, the first listed, loading doses
ignored) and does the arithmetic (stated daily totals win, per dose × times otherwise), so a
model answer and a rule answer mean the same thing. Conversion to the countable unit is the
rule engine's, not a second copy: the chosen regimen is written back as one canonical clause
(大蜜丸一日2丸) and `rules.dose.extract_daily_dose` converts it with the product's spec.
"""
from __future__ import annotations

import math
import re
from typing import Final

from models.llm.schema import Range, Regimen
from rules.dose import DoseResult, extract_daily_dose
from rules.forms import ROUTE_PATTERN, ROUTE_WORDS, Form, find_forms, form_match, product_form
from rules.numerals import NUMBER_PATTERN, normalise_text, parse_number
from rules.units import dimension, normalise_unit

__all__ = ["choose_regimen", "regimens_result"]

_ADULT: Final = re.compile(r"成人|成年|大人|一般")
_AGE_BAND: Final = re.compile(rf"(?P<lo>{NUMBER_PATTERN})(?:~(?P<hi>{NUMBER_PATTERN}))?(?:周?岁|kg|公斤)(?P<up>以上|及以上)?")
_PER_BODY: Final = re.compile(r"/(?:kg|KG|Kg|m2|m²|公斤|千克)")
_ROUTE_RE: Final = re.compile(ROUTE_PATTERN)
_HERB_SLICE: Final = "饮片"


def _grounded_label(label: str, text: str) -> str:
    """The label when the text contains it; a label the model made up selects nothing."""
    label = normalise_text(label)
    return label if label and label in text else ""


def _form_score(regimen: Regimen, product: Form | None, text: str) -> float:
    """2 per level of form match, 1 for a matching route, 0.5 unmarked, 0 for another form or route."""
    label = _grounded_label(regimen.form, text)
    if not label:
        return 0.5
    forms = find_forms(label)
    if product is not None and forms:
        return 2.0 * form_match(forms[0], product)
    route = _ROUTE_RE.search(label)
    if product is not None and route:
        return 1.0 if ROUTE_WORDS[route.group(0)] == product.route else 0.0
    return 0.5


def _band_top(population: str) -> float:
    """The upper age (or weight) of a band; ``inf`` for 12岁以上; -1 when none is written."""
    tops = []
    for match in _AGE_BAND.finditer(normalise_text(population)):
        low, high = parse_number(match["lo"]), parse_number(match["hi"] or "")
        tops.append(math.inf if match["up"] else (high if high is not None else low) or 0.0)
    return max(tops, default=-1.0)


def choose_regimen(
    regimens: tuple[Regimen, ...], *, usage: str, name: str | None = None, spec: str | None = None
) -> tuple[Regimen | None, str]:
    """The one regimen DAILY_DOSE.md takes, and which rule took it.

    Examples
    --------
    >>> adult = Regimen("成人", "", (1, 1), "袋", (3, 3), None, False)
    >>> child = Regimen("儿童", "", (1, 1), "袋", (2, 2), None, False)
    >>> choose_regimen((child, adult), usage="儿童一次1袋，一天2次。成人一次1袋，一天3次。")[0] is adult
    True
    >>> pill = Regimen("", "大蜜丸", (1, 1), "丸", (2, 2), None, False)
    >>> watery = Regimen("", "水蜜丸", (6, 6), "g", (2, 2), None, False)
    >>> choose_regimen((watery, pill), usage="水蜜丸一次6g，大蜜丸一次1丸，一日2次", name="某某大蜜丸")
    (Regimen(population='', form='大蜜丸', per_dose=(1, 1), unit='丸', times_per_day=(2, 2), daily_total=None, loading_dose=False), 'form 大蜜丸')
    >>> bands = [Regimen(f"{a}岁", "", (g, g), "g", (3, 3), None, False) for a, g in (("1~3", 10), ("4~7", 15))]
    >>> choose_regimen(tuple(bands), usage="1~3岁每次10g，4~7岁每次15g，均每天3次")[1]
    'oldest band 4~7岁'
    """
    text = normalise_text(usage)
    candidates = [r for r in regimens if not r.loading_dose]
    if not candidates:
        return None, "only loading doses"
    why = []
    product = product_form(name, spec)
    scores = [_form_score(r, product, text) for r in candidates]
    if max(scores) > 0.5:
        candidates = [r for r, s in zip(candidates, scores) if s == max(scores)]
        why.append(f"form {candidates[0].form}")
    populations = [_grounded_label(r.population, text) for r in candidates]
    adults = [r for r, p in zip(candidates, populations) if not p or _ADULT.search(p)]
    if adults:
        candidates = adults
    else:
        oldest = max(candidates, key=lambda r: _band_top(r.population))  # max keeps the first of equals
        candidates = [oldest]
        why.append(f"oldest band {oldest.population}")
    if len(candidates) > 1:
        why.append("first listed")
    return candidates[0], "; ".join(why) or "single regimen"


def _count_daily(
    daily: Range, unit: str, form: str, *, name: str | None, spec: str | None, package: str | None
) -> tuple[Range | None, str | None]:
    """`daily_count` and `count_unit` as the rule engine converts this daily amount for this product.

    >>> _count_daily((12.0, 18.0), "g", "", name=None, spec="水丸。每100粒重6g。", package=None)
    ((200.0, 300.0), '粒')
    """
    lo, hi = daily
    amount = f"{lo:g}{unit}" if lo == hi else f"{lo:g}~{hi:g}{unit}"
    rules = extract_daily_dose(f"{form}一日{amount}。", name=name, spec=spec, package=package)
    if not rules.determinable or rules.daily != daily or rules.unit != unit:
        return None, None
    return rules.daily_count, rules.count_unit


def _floats(span: Range | None) -> Range | None:
    return None if span is None else (float(span[0]), float(span[1]))


def _times(a: Range, b: Range) -> Range:
    return (round(a[0] * b[0], 6), round(a[1] * b[1], 6))


def regimens_result(
    regimens: tuple[Regimen, ...], *, usage: str, name: str | None = None, spec: str | None = None,
    package: str | None = None,
) -> DoseResult:
    """The `DoseResult` of the regimen the contract selects, with the contract's arithmetic.

    Examples
    --------
    >>> r = Regimen("", "", (2, 2), "粒", (3, 3), None, False)
    >>> result = regimens_result((r,), usage="口服。一次2粒，一日3次。", spec="每粒装0.3g")
    >>> result.daily, result.unit, result.daily_count, result.count_unit
    ((6.0, 6.0), '粒', (6.0, 6.0), '粒')
    >>> regimens_result((Regimen("", "", (30, 60), "ml", None, None, False),), usage="口服。一次30～60ml。").reason
    'no_frequency'
    >>> regimens_result((Regimen("", "", None, "g", (2, 3), (6, 6), False),), usage="一日6g，分2～3次服").daily
    (6.0, 6.0)
    """
    regimen, why = choose_regimen(regimens, usage=usage, name=name, spec=spec)

    def not_determinable(reason: str, clause_why: str) -> DoseResult:
        return DoseResult(determinable=False, reason=reason, method="llm", why=f"{why}; {clause_why}".strip("; "))

    if regimen is None:
        return not_determinable("no_amount", "no regimen with an amount")
    unit = normalise_unit(normalise_text(regimen.unit))
    if _PER_BODY.search(unit):
        return not_determinable("weight_or_area_based", f"dose per body weight or area ({regimen.unit})")
    per_dose, times, stated = (_floats(r) for r in (regimen.per_dose, regimen.times_per_day, regimen.daily_total))
    if stated is not None and per_dose is not None and (stated[0] < per_dose[0] or stated[1] < per_dose[1]):
        stated, times = None, stated  # 一次3～5片，一日3片: less than a dose, so a slip for 一日3次
    if stated is not None:
        daily, why = stated, f"{why}; stated daily total"
    elif per_dose is None:
        return not_determinable("no_amount", "no amount")
    elif times is not None:
        daily = _times(per_dose, times)
    elif _HERB_SLICE in f"{name or ''}{spec or ''}" or ("次" not in usage and dimension(unit) == "mass"):
        daily, why = per_dose, f"{why}; bare amount (饮片 convention: per day)"
    else:
        return not_determinable("no_frequency", "no frequency")
    form = _grounded_label(regimen.form, normalise_text(usage))
    marker = form if find_forms(form) or _ROUTE_RE.search(form) else ""  # 大蜜丸 / 口服 guide the spec's reading
    daily_count, count_unit = _count_daily(daily, unit, marker, name=name, spec=spec, package=package)
    return DoseResult(
        determinable=True, reason=None, per_dose=per_dose, times_per_day=times, daily=daily, unit=unit,
        daily_count=daily_count, count_unit=count_unit, method="llm", why=why,
    )
