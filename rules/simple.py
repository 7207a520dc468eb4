"""Fast path for the commonest insert shape: one route word, one dose, one daily frequency.

About half of all 用法用量 texts read ``口服，一次2粒，一日3次。`` and nothing else (maybe a closing
``饭后服用``, ``或遵医嘱`` or a course such as ``7天为一疗程``). For those the general scanner (`rules.dose`) finds exactly one
candidate regimen, so selection has nothing to decide; `read_simple` reads such a text with one
anchored regex instead, and `rules.dose` builds the same result from it. Anything the template
does not cover in full (a second amount, a population, a bracket, a form word …) returns ``None``
and goes the general way. `tests/rules/test_simple.py` checks that both paths agree on every
text of the dev corpus and on mutations of it.
"""
from __future__ import annotations

import re
from typing import Final, NamedTuple

from rules.forms import FORMS, ROUTE_WORDS, USAGE_FORM_WORDS, Form
from rules.numerals import parse_number
from rules.units import normalise_unit, trie_pattern

__all__ = ["SimpleDose", "read_simple"]

Range = tuple[float, float]

_NUM: Final = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十半])"


# 开水冲服 / 温开水送服 / 黄酒或温开水送服: the liquid before a route word names no route of its own
_VEHICLE: Final = r"(?:黄酒或温开水|温开水|开水|温水|淡盐汤|用淡盐汤|黄酒)?"
# Closing clauses hold no number, bracket or range (so no amount, frequency number, age or
# section); any marker words there (小儿, 遵医嘱, 睡前, 隔日 …) act only on amounts after them,
# and there are none: the forward search gives the dose the frequency right after it first.
_TAIL: Final = r"[^\d()\[\]~/一二两三四五六七八九十半百零〇,;。:]{1,40}"
# A course clause, whole (7天为一疗程, 1个月为1个疗程, 疗程4周, 连服一个月): its number is no amount (天, 周,
# 个月 are no units), no age (个月 is an age only before 以下, 婴 …), and no frequency (no 次 follows).
_SPAN: Final = r"(?:\d+|[一二两三四五六七八九十]+)(?:天|周|个月)"
_COURSE: Final = rf"{_SPAN}为(?:一|1)个?疗程|疗程{_SPAN}|连服{_SPAN}"
_SIMPLE: Final = re.compile(
    rf"(?:{_VEHICLE}(?P<route>{trie_pattern(ROUTE_WORDS)})(?:给药)?[,。:])?(?P<form>{trie_pattern(USAGE_FORM_WORDS)})?"
    rf"(?P<dose>(?:一次|每次|1次)(?P<a>{_NUM})(?:~(?P<b>{_NUM}))?(?P<unit>mg|ml|g|克|毫克|毫升|粒|片|丸|袋|包|支|枚|块|锭|瓶|贴))"
    rf"[,;](?:(?:一日|每日|每天|一天|1日)(?P<ta>{_NUM})(?:~(?P<tb>{_NUM}))?次|(?P<sa>{_NUM})(?:~(?P<sb>{_NUM}))?次/d)"
    rf"(?:[,;。](?:{_TAIL}|{_COURSE}))*。?"
)


class SimpleDose(NamedTuple):
    """What a simple text says: its route and form (or ``None``), the dose clause span, amount, unit, times."""

    route: str | None
    form: Form | None
    start: int
    end: int
    amount: Range
    unit: str
    times: Range


def read_simple(text: str) -> SimpleDose | None:
    """The one regimen of a normalised text of the simple shape, else ``None``.

    Examples
    --------
    >>> read_simple("口服,一次2~3粒,一日3次。")
    SimpleDose(route='oral', form=None, start=3, end=9, amount=(2.0, 3.0), unit='粒', times=(3.0, 3.0))
    >>> read_simple("口服,一次2粒,一日3次;儿童一次1粒。") is None
    True
    """
    m = _SIMPLE.fullmatch(text)
    if m is None:
        return None
    a, b_text = parse_number(m["a"]), m["b"]
    b = parse_number(b_text) if b_text else a
    ta_text = m["ta"] or m["sa"]
    ta, tb_text = parse_number(ta_text), m["tb"] or m["sb"]
    tb = parse_number(tb_text) if tb_text else ta
    if not a or not b or not ta or not tb or a <= 0 or b <= 0 or ta <= 0 or tb <= 0:
        return None
    lo, hi = (a, b) if a <= b else (b, a)
    t_lo, t_hi = (ta, tb) if ta <= tb else (tb, ta)
    route, form = m["route"], m["form"]
    return SimpleDose(ROUTE_WORDS[route] if route else None, FORMS[form] if form else None, m.start("dose"), m.end("dose"), (lo, hi),
                      normalise_unit(m["unit"]), (round(t_lo, 6), round(t_hi, 6)))
