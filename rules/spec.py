"""Spec (规格) and package (包装) parsing: what one unit holds, and how many units a pack has.

A spec says how much one countable unit holds (每粒装0.3g, 每100粒重6g, 10ml/支, 0.5g*12片,
片剂：5mg) and sometimes how many are in the pack (12粒×3板/盒, 每盒装36片, 6袋/盒). `parse_pack`
reads both fields into `PackFacts`; `rules.dose` converts doses with its `contents` and
`rules.cost` prices with its `pack_qty`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rules.forms import FORM_PATTERN, FORMS, Form
from rules.numerals import normalise_text, parse_number
from rules.units import CONTAINER_UNITS, normalise_unit, to_base

__all__ = ["UnitContent", "PackFacts", "parse_pack", "S_UNIT"]

S_UNIT: Final = "s"  # `0.3g*12s`: the form's own unit (粒 for capsules, 片 for tablets)
_NUM: Final = r"\d+(?:\.\d+)?"
_MEASURE: Final = r"(?:mg|μg|ug|g|kg|ml|mL|L|克|毫克|微克|毫升|升)(?![A-WYZa-wyz])"  # x: 0.5gx12
_PIECE: Final = r"(?:素片|小瓶|粒|片|丸|袋|包|支|瓶|块|贴|锭|枚|格|罐|盒|听|管|揿|喷|s|S)"
_LIST_TAIL: Final = rf"(?:(?:[;,、或]|和)(?:每{_PIECE}装?)?{_NUM}{_MEASURE}(?![/*×xX]))*"

# 每粒装0.3g / 每100粒重6g / 每丸重9g / 每袋装:5g;15g / 每支10ml / 每块重10.5g;15g / 每片含本品600mg
_PER_UNIT: Final = re.compile(
    rf"(?:每(?P<n>{_NUM})?|(?<![\d.每])(?P<n2>\d+)(?=[粒丸片]约?重))(?P<unit>{_PIECE})约?(?:装量|装|重|净重|内装|含量|为|含[^\d,;。:()]{{0,12}}?)?约?[:]?(?P<amt>{_NUM})(?P<mu>{_MEASURE})(?P<tail>{_LIST_TAIL})"
)
_CORE_WEIGHT: Final = re.compile(rf"片芯重(?P<amt>{_NUM})(?P<mu>{_MEASURE})")  # 片芯重0.3g: one tablet's core
_NEXT_INGREDIENT: Final = re.compile(r"[、,;和及][^\d。]{1,16}\d")
# 15g/袋 / 10ml/支 / 0.5g/片或1g/片
_SLASH: Final = re.compile(rf"(?P<amt>{_NUM})(?P<mu>{_MEASURE})/(?P<unit>{_PIECE})")
# 0.3g*12粒*2板 / 10g*8袋 / 0.51g*40s / 0.1g×40片/盒 / 150g*1瓶/盒
_TIMES: Final = re.compile(
    rf"(?:(?P<vol>{_NUM})(?P<vu>ml|mL|毫升)[:：])?"  # 2ml:10μg*1支: the ampoule's volume too
    rf"(?P<amt>{_NUM})(?P<mu>{_MEASURE})[*×xX](?P<n>{_NUM})(?P<unit>{_PIECE})(?P<more>(?:[*×xX]{_NUM}(?:小盒|中盒|板|盒|瓶|袋)?)*)"
)
# 片剂：10mg，20mg / 注射剂：2ml / 蜜丸剂：6g
_STRENGTH: Final = re.compile(
    rf"(?P<form>{FORM_PATTERN})剂?(?:\([^()]*\))?[:：](?P<list>{_NUM}{_MEASURE}(?:/{_NUM}(?:ml|mL))?(?:[,、;或]{_NUM}{_MEASURE}(?:/{_NUM}(?:ml|mL))?)*)(?![*×xX\d]|相当于|含|/(?:ml|mL|毫升|L|g|kg)(?![\d.]))"
)
_AMOUNT: Final = re.compile(rf"(?P<amt>{_NUM})(?P<mu>{_MEASURE})")
# Pack counts: 48粒/盒, 12粒/板X3板/盒, 每盒装36片, 每瓶装60丸, 4*12粒/板, 36s/盒
_COUNT: Final = re.compile(
    rf"(?<![每\d.])(?:(?P<pre>\d+)[*×xX])?(?P<n>\d+)(?P<unit>{_PIECE})(?P<more>(?:/板)?(?:[*×xX]\d+(?:板|小盒|中盒|盒|袋)?)*)"
)
_COUNT_HINT: Final = re.compile(rf"\d{_PIECE}")  # what every _COUNT match holds; a fast search (no lookbehind first)
_PER_BOARD: Final = re.compile(rf"每板装?(?P<n>\d+)(?P<unit>{_PIECE}).{{0,4}}每盒装?(?P<m>\d+)板")
_EACH_HOLDS: Final = re.compile(rf"每(?P<unit>{_PIECE})含")  # 每粒含A、B、C: counts 粒 though no strength
_BOX_HOLDS: Final = re.compile(rf"(?:每盒|每瓶|盒装|瓶装|每袋)装?(?P<n>\d+)(?P<unit>{_PIECE})")
_KEEP: Final = r"(?!每\d*[粒丸片])"  # (每20丸重1g) stays: a pill weight, not a remark
_PARENS: Final = re.compile(rf"\((?:相当于|含|约|无|折|以)[^()]*\)|\({_KEEP}[^()]{{0,12}}\)"
                            rf"|\({_KEEP}[^()]*?\d(?:\.\d+)?(?:g|mg|μg|ml)[^()]*\)")  # 4.5g(哌拉西林4.0g,他唑巴坦0.5g)/瓶
_FORM_NOT_UNIT: Final = re.compile("(?<!/)" + FORM_PATTERN)  # a form word, not a unit after a slash (6g/丸)
# 胶囊(成人)：7mg → 成人胶囊：7mg, so the population tag survives the bracket removal
_POPULATION_TAG: Final = re.compile(rf"(?P<form>{FORM_PATTERN})剂?\((?P<who>成人|儿童|小儿|幼儿)用?\)")
# 6g/丸(大蜜丸) → 大蜜丸6g/丸, so the form survives the bracket removal and names the line
_FORM_TAG: Final = re.compile(rf"(?P<amount>{_NUM}{_MEASURE}/{_PIECE})\((?P<form>{FORM_PATTERN})\)")
_POPULATION_PREFIX: Final = {"成人": "adult", "儿童": "child", "小儿": "child", "幼儿": "child"}
_ANY_DIGIT: Final = re.compile(r"\d")
_DIGITS: Final = re.compile(r"\d+")
_HAS_TIMES: Final = re.compile(r"[*×xX]")
_BARE_SPEC: Final = re.compile(rf"^(?:(?P<a>{_NUM})(?P<am>{_MEASURE})(?:[:：/](?P<v>{_NUM})(?P<vm>ml|mL|毫升))?"
                               rf"|(?P<v2>{_NUM})(?P<vm2>ml|mL|毫升)[:：](?P<a2>{_NUM})(?P<am2>{_MEASURE}))[。.]?$")  # 25mg:5ml, 10ml:30mg
_VOLUME_IN_BRACKETS: Final = re.compile(rf"({_NUM})(mg|g|μg|ug|克|毫克|万U|U)[(/]({_NUM})(ml|mL|毫升)")  # 100mg(5ml), 40mg/2ml


@dataclass(frozen=True)
class UnitContent:
    """One countable unit holds `amount` `measure` (``per`` units: 每100粒重6g → per=100)."""

    unit: str
    amount: float
    measure: str
    per: float = 1.0
    form: str | None = None  # the dosage form this line of the spec belongs to, when named
    population: str | None = None  # "adult" / "child" when the line names who it is for: 胶囊(成人)：7mg

    @property
    def base_per_unit(self) -> float | None:
        """Content of one unit in g or ml (mass or volume), ``None`` for other measures."""
        base = to_base(self.amount, self.measure)
        return None if base is None else base / self.per


@dataclass(frozen=True)
class PackFacts:
    """What spec and package say: per-unit contents, units counted, pack size."""

    contents: tuple[UnitContent, ...] = ()
    count_units: tuple[str, ...] = ()
    pack_qty: float | None = None
    pack_unit: str | None = None
    described: bool = False  # a spec or package text was given (even one that counts nothing)


def _form_at(text: str, position: int) -> Form | None:
    """The last form named before `position`; a unit after a slash (6g/丸) names none."""
    words = _FORM_NOT_UNIT.findall(text, 0, position)  # no groups: the form words before `position`
    return FORMS[words[-1]] if words else None


def _unit_of(raw: str, form: Form | None) -> str:
    if raw in ("s", "S"):
        return S_UNIT
    return "片" if raw == "素片" else raw


def _amounts(text: str) -> list[tuple[float, str]]:
    out = []
    for m in _AMOUNT.finditer(text):
        value = parse_number(m.group("amt"))
        if value:
            out.append((value, normalise_unit(m.group("mu"))))
    return out


def _amount(match: re.Match[str]) -> list[tuple[float, str]]:
    """`_amounts` of a match's ``amt`` and ``mu`` groups (one number, one measure), read without a regex."""
    value = parse_number(match.group("amt"))
    return [(value, normalise_unit(match.group("mu")))] if value else []


def _read_contents(text: str) -> list[UnitContent]:
    contents: list[UnitContent] = []
    if not text or not _ANY_DIGIT.search(text):
        return contents
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], unit: str, values: list[tuple[float, str]], per: float = 1.0) -> None:
        if any(s < match.end() and match.start() < e for s, e in taken):
            return
        taken.append(match.span())
        form = _form_at(text, match.start())
        for amount, measure in values:
            contents.append(UnitContent(unit, amount, measure, per, form.name if form else None))

    for m in (_PER_UNIT.finditer(text) if "每" in text or "重" in text else ()):
        if "含" in m.group(0) and _NEXT_INGREDIENT.match(text, m.end()):
            continue  # 每片含A15mg、B0.5mg: a composition of several ingredients, not one strength
        per_text = m.group("n") or m.group("n2")
        per = parse_number(per_text) if per_text else 1.0
        values = _amounts(m.group("amt") + m.group("mu") + m.group("tail")) if m.group("tail") else _amount(m)
        add(m, _unit_of(m.group("unit"), None), values, per or 1.0)
    for m in (_CORE_WEIGHT.finditer(text) if "片芯" in text else ()):
        add(m, "片", _amount(m))
    for m in (_TIMES.finditer(text) if _HAS_TIMES.search(text) else ()):
        volume = [(parse_number(m.group("vol")) or 0.0, normalise_unit(m.group("vu")))] if m.group("vol") else []
        add(m, _unit_of(m.group("unit"), None), _amount(m) + [v for v in volume if v[0]])
    for m in (_SLASH.finditer(text) if "/" in text else ()):
        add(m, _unit_of(m.group("unit"), None), _amount(m))
    for m in (_STRENGTH.finditer(text) if ":" in text or "：" in text else ()):
        form = FORMS[m.group("form")]
        if any(s <= m.start("list") < e for s, e in taken):
            continue
        taken.append(m.span())
        population = _POPULATION_PREFIX.get(text[max(0, m.start() - 2):m.start()])
        for amount, measure in _amounts(m.group("list")):
            # 水丸剂：3mg names its piece 丸, whatever the table counts a 水丸 in
            unit = "丸" if form.family == "丸" else (form.unit or "瓶")
            contents.append(UnitContent(unit, amount, measure, 1.0, form.name, population))
    return contents


def _pack_count(text: str) -> tuple[float | None, str | None, list[str]]:
    units: list[str] = []
    qty, qty_unit = None, None
    if not text or not _ANY_DIGIT.search(text):
        return qty, qty_unit, units
    board = _PER_BOARD.search(text) if "每板" in text else None
    if board:
        qty, qty_unit = float(board.group("n")) * float(board.group("m")), _unit_of(board.group("unit"), None)
    containers = None  # 15g×2瓶/盒: the pack counts bottles when it counts nothing smaller
    for m in (_COUNT.finditer(text) if _COUNT_HINT.search(text) else ()):
        unit = _unit_of(m.group("unit"), None)
        if unit in CONTAINER_UNITS or unit == "盒":
            if containers is None and unit != "盒" and m.group("pre") is None:
                containers = (float(m.group("n")), unit)
            continue
        units.append(unit)
        if qty is None:
            n = float(m.group("n")) * float(m.group("pre") or 1)
            for factor in _DIGITS.findall(m.group("more")):
                n *= float(factor)
            qty, qty_unit = n, unit
    for m in (_EACH_HOLDS.finditer(text) if "含" in text else ()):
        unit = _unit_of(m.group("unit"), None)
        if unit not in CONTAINER_UNITS and unit not in units:
            units.append(unit)
    for m in (_BOX_HOLDS.finditer(text) if "装" in text or "每" in text else ()):
        unit = _unit_of(m.group("unit"), None)
        if unit not in CONTAINER_UNITS:
            units.append(unit)
    if qty is None and containers is not None:
        qty, qty_unit = containers
    return qty, qty_unit, units


def _bare_spec(spec_text: str, package_text: str) -> list[UnitContent]:
    """A spec that is only an amount (`5ml`, `150g`, `25mg:5ml`, `0.1g` with `16片/盒`): one unit's content.

    The unit is the pack's piece when the texts count one (片, 粒 …, or `s`), else a container (瓶).
    """
    m = _BARE_SPEC.match(spec_text)
    if m is None:
        return []
    _, _, units = _pack_count(spec_text + package_text)
    piece = next((u for u in units if u not in CONTAINER_UNITS), None)
    out = []
    pairs = ((m.group("a"), m.group("am")), (m.group("v"), m.group("vm"))) if m.group("a") else \
        ((m.group("a2"), m.group("am2")), (m.group("v2"), m.group("vm2")))
    for amount, measure in pairs:
        value = parse_number(amount) if amount else None
        if value:
            unit = normalise_unit(measure)
            holder = piece or ("瓶" if unit in ("ml", "L", "g", "kg") or m.group("v") or m.group("v2") else S_UNIT)
            out.append(UnitContent(holder, value, unit))
    return out


def _volume_contents(contents: list[UnitContent], volumes: list[tuple[str, str, str, str]]) -> list[UnitContent]:
    extra = []
    for amount, measure, volume, volume_unit in volumes:
        a, v = parse_number(amount), parse_number(volume)
        for c in contents:
            if a is not None and v and c.amount == a and c.measure == normalise_unit(measure) and c.per == 1:
                extra.append(UnitContent(c.unit, v, normalise_unit(volume_unit), 1.0, c.form))
                break
    return extra


@lru_cache(maxsize=8192)  # pure and keyed by two short strings: specs repeat across listings
def parse_pack(spec: str | None, package: str | None = None) -> PackFacts:
    """Per-unit contents and pack size from the spec, then the package.

    Parameters
    ----------
    spec
        规格 text, e.g. ``每粒装0.3g`` or ``0.5g*12片*2板``.
    package
        包装 text, e.g. ``铝塑包装，每盒装36片``; used for what the spec lacks.

    Examples
    --------
    >>> facts = parse_pack("0.3g*12粒*2板/盒")
    >>> facts.contents[0].unit, facts.contents[0].base_per_unit, facts.pack_qty, facts.pack_unit
    ('粒', 0.3, 24.0, '粒')
    >>> parse_pack("每100粒重6g").contents[0].base_per_unit
    0.06
    >>> parse_pack("10ml/支").contents[0].unit
    '支'
    >>> parse_pack("片剂：每片含本品250mg。").contents[0].base_per_unit
    0.25
    >>> parse_pack("每片含甲成分10mg、乙成分5mg。").contents
    ()
    >>> [(c.base_per_unit, c.population) for c in parse_pack("胶囊(成人)：8mg。胶囊(儿童)：4mg。").contents]
    [(0.008, 'adult'), (0.004, 'child')]
    >>> parse_pack(None, "铝塑包装，每盒装36片").pack_qty
    36.0
    """
    spec_text = normalise_text(spec)
    package_text = normalise_text(package)
    volumes = _VOLUME_IN_BRACKETS.findall(spec_text) if "ml" in spec_text or "毫升" in spec_text else []
    if "(" in spec_text:
        spec_text = _POPULATION_TAG.sub(r"\g<who>\g<form>", spec_text)
        spec_text = _PARENS.sub("", _FORM_TAG.sub(r"\g<form>\g<amount>", spec_text) if "/" in spec_text else spec_text)
    if "(" in package_text:
        package_text = _PARENS.sub("", package_text)
    contents = _read_contents(spec_text)
    if not contents and spec_text:
        contents = _bare_spec(spec_text, package_text)
    if volumes:  # 注射剂：100mg(5ml): one 支 holds 5 ml too, for a dose stated in ml
        contents += _volume_contents(contents, volumes)
    qty, qty_unit, units = _pack_count(spec_text)
    package_contents = _read_contents(package_text)
    if not contents:
        contents = package_contents
    p_qty, p_unit, p_units = _pack_count(package_text)
    if qty is None or (p_qty is not None and qty_unit == S_UNIT and p_unit != S_UNIT):
        qty, qty_unit = (p_qty, p_unit) if p_qty is not None else (qty, qty_unit)
    seen: list[str] = []
    for unit in [c.unit for c in contents + package_contents] + units + p_units:
        if unit not in seen:
            seen.append(unit)
    return PackFacts(tuple(contents), tuple(seen), qty, qty_unit, bool(spec_text or package_text))
