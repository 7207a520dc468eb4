"""Is every number the model returned written in the insert, with its unit?

A model answer is used only when each amount it claims (per dose, stated daily total) occurs
in the normalised text as a number or range directly followed by a spelling of the same unit,
and each frequency occurs as a phrase of the rule engine's frequency table (一日2~3次, 3次/d,
每8小时 → 3, 隔日 → 0.5).
A small model that invents numbers fails this; so does an answer obeying an instruction
hidden in the text, unless that instruction writes the very amount with its unit.

The check reads the text the same way the rule engine does (`rules.numerals.normalise_text`,
`NUMBER_PATTERN`, `rules.units.UNIT_PATTERN`), so ``lOml`` grounds 10 ml and 克 grounds g.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from models.llm.schema import Range, Regimen
from rules.frequency import FREQUENCY_RULES, frequency_pattern, times_per_day
from rules.numerals import NUMBER_PATTERN, normalise_text, parse_number
from rules.units import UNIT_PATTERN, normalise_unit, same_count_unit

__all__ = ["Quantity", "quantities", "frequencies", "ungrounded"]

_NUM: Final = NUMBER_PATTERN
_RANGE_JOIN: Final = r"(?:~|或|、)"  # 2~3, 2或3次, 2、3次
# An amount: number or range, the unit right after it, and whether it is per kg / per m² of body.
_AMOUNT: Final = re.compile(
    rf"(?P<lo>{_NUM})(?:{_RANGE_JOIN}(?P<hi>{_NUM}))?(?P<unit>{UNIT_PATTERN})(?P<per>/(?:kg|KG|Kg|m2|m²|公斤|千克))?"
)
# Every frequency phrase of the rule engine's table, each in its own named group.
_FREQUENCY: Final = re.compile("|".join(f"(?P<r{i}>{frequency_pattern(i)})" for i in range(len(FREQUENCY_RULES))))


@dataclass(frozen=True)
class Quantity:
    """An amount as written: its range, normalised unit, and whether it is per body weight or area."""

    span: Range
    unit: str
    per_body: bool


def _span(lo: str | None, hi: str | None) -> Range | None:
    low = parse_number(lo or "")
    high = parse_number(hi) if hi else low
    return None if low is None or high is None else (low, high)


def quantities(text: str) -> list[Quantity]:
    """Every number-and-unit in a normalised text.

    >>> quantities("一次2~3粒,一日3次;儿童1~2mg/kg")
    [Quantity(span=(2.0, 3.0), unit='粒', per_body=False), Quantity(span=(1.0, 2.0), unit='mg', per_body=True)]
    """
    found = []
    for match in _AMOUNT.finditer(text):
        span = _span(match["lo"], match["hi"])
        if span is not None:
            found.append(Quantity(span, normalise_unit(match["unit"]), bool(match["per"])))
    return found


def frequencies(text: str) -> set[float]:
    """Every times-per-day value a normalised text states, literally or by a fixed phrase.

    >>> sorted(frequencies("一次2粒,一日2~3次"))
    [2.0, 3.0]
    >>> sorted(frequencies("每8小时一次,隔日加服"))
    [0.5, 3.0]
    >>> sorted(frequencies("早晚各服1次,每周2次"))
    [0.285714, 2.0]
    >>> frequencies("一次2粒。")   # "一次" is a dose, not a frequency
    set()
    """
    values: set[float] = set()
    for match in _FREQUENCY.finditer(text):
        values.update(times_per_day(int(match.lastgroup[1:]), match) or ())
    return values


def _same_unit(claimed: str, written: str) -> bool:
    return claimed == written or same_count_unit(claimed, written)


def _amount_problems(what: str, span: Range, unit: str, found: list[Quantity]) -> list[str]:
    claimed_unit = normalise_unit(normalise_text(unit).split("/")[0])
    claims_per_body = "/" in unit and any(body in unit for body in ("kg", "公斤", "千克", "m"))
    with_unit = [q for q in found if _same_unit(claimed_unit, q.unit)]
    if not with_unit:
        return [f'{what} unit "{unit}" is not in the text']
    problems = []
    for value in sorted(set(span)):
        matches = [q for q in with_unit if value in q.span]
        if not matches:
            problems.append(f"{what} {value:g} {unit} is not in the text")
        elif all(q.per_body != claims_per_body for q in matches):
            problems.append(f"{what} {value:g} {unit}: the text states it per body weight or area" if not claims_per_body
                            else f"{what} {value:g} {unit}: the text does not state it per body weight")
    return problems


def ungrounded(regimens: tuple[Regimen, ...], usage: str) -> list[str]:
    """What in the answer the text does not state; an empty list means the answer is grounded.

    Parameters
    ----------
    regimens
        The parsed model answer.
    usage
        The insert text as given (it is normalised here, as the rules normalise it).

    Examples
    --------
    >>> from models.llm.schema import Regimen
    >>> good = Regimen("", "", (2, 2), "粒", (3, 3), None, False)
    >>> ungrounded((good,), "口服。一次2粒，一日3次。")
    []
    >>> invented = Regimen("", "", (2, 3), "10g", (60, 80), None, False)   # what the 135M model said
    >>> ungrounded((invented,), "口服。一次2粒，一日3次。")
    ['per_dose unit "10g" is not in the text', 'times_per_day 60 is not in the text', 'times_per_day 80 is not in the text']
    >>> ungrounded((Regimen("", "", (10, 10), "ml", (3, 3), None, False),), "口服，一次lOml，一日3次。")
    []
    """
    text = normalise_text(usage)
    found = quantities(text)
    stated_times = frequencies(text)
    problems: list[str] = []
    for regimen in regimens:
        if (regimen.per_dose or regimen.daily_total) and not regimen.unit:
            problems.append("an amount without a unit")
            continue
        if regimen.per_dose:
            problems += _amount_problems("per_dose", regimen.per_dose, regimen.unit, found)
        if regimen.daily_total:
            problems += _amount_problems("daily_total", regimen.daily_total, regimen.unit, found)
        for value in sorted(set(regimen.times_per_day or ())):
            if not any(math.isclose(value, stated, rel_tol=1e-3) for stated in stated_times):
                problems.append(f"times_per_day {value:g} is not in the text")
    return list(dict.fromkeys(problems))  # one line per distinct problem, in order
