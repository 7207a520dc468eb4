"""Dosage forms (剂型) and routes: which regimen of a text belongs to this product.

`FORMS` is the table: a spelling, the form it names, its family (丸 for every pill kind), the
unit one piece of it is counted in, and its route. `ROUTE_WORDS` maps route words in usage
texts to a route. Longest spelling wins, so 大蜜丸 is not read as 丸.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final, Mapping

from rules.units import trie_pattern

__all__ = ["Form", "FORMS", "FORMS_BY_NAME", "ROUTE_WORDS", "USAGE_FORM_WORDS", "FORM_PATTERN", "ROUTE_PATTERN", "lookup_form", "find_forms", "product_form", "form_match"]


@dataclass(frozen=True)
class Form:
    """One dosage form: its name, family, the unit one piece is counted in, and its route."""

    name: str
    family: str
    unit: str | None
    route: str = "oral"


def _f(name: str, family: str, unit: str | None, route: str = "oral") -> Form:
    return Form(name, family, unit, route)


# spelling → Form. A pharmacist extends this table; the regex is built from its keys.
FORMS: Final[Mapping[str, Form]] = MappingProxyType({
    "大蜜丸": _f("大蜜丸", "丸", "丸"), "小蜜丸": _f("小蜜丸", "丸", "丸"), "水蜜丸": _f("水蜜丸", "丸", "粒"),
    "浓缩丸": _f("浓缩丸", "丸", "丸"), "浓缩水丸": _f("浓缩丸", "丸", "丸"), "水泛丸": _f("水丸", "丸", "粒"),
    "水丸": _f("水丸", "丸", "粒"), "蜜丸": _f("大蜜丸", "丸", "丸"), "糖衣丸": _f("糖衣丸", "丸", "丸"),
    "炭衣丸": _f("炭衣丸", "丸", "丸"), "滴丸": _f("滴丸", "丸", "丸"), "微丸": _f("微丸", "丸", "丸"),
    "糊丸": _f("糊丸", "丸", "丸"), "丸剂": _f("丸", "丸", "丸"), "丸": _f("丸", "丸", "丸"), "丹": _f("丸", "丸", "丸"),
    "软胶囊": _f("胶囊", "胶囊", "粒"), "肠溶胶囊": _f("胶囊", "胶囊", "粒"), "胶囊剂": _f("胶囊", "胶囊", "粒"),
    "胶囊": _f("胶囊", "胶囊", "粒"),
    # kinds of tablet are told apart (…缓释片 takes the 缓释片 regimen, not the 片剂 one)
    "分散片": _f("分散片", "片", "片"), "泡腾片": _f("泡腾片", "片", "片"), "咀嚼片": _f("咀嚼片", "片", "片"),
    "含片": _f("含片", "片", "片"), "肠溶片": _f("肠溶片", "片", "片"), "缓释片": _f("缓释片", "片", "片"),
    "控释片": _f("控释片", "片", "片"),
    # coatings are told apart (糖衣片一次6片，薄膜衣片一次4片 with a 薄膜衣片 spec)
    "薄膜衣片": _f("薄膜衣片", "片", "片"), "糖衣片": _f("糖衣片", "片", "片"), "素片": _f("素片", "片", "片"), "片剂": _f("片", "片", "片"), "片": _f("片", "片", "片"),
    "颗粒剂": _f("颗粒", "颗粒", "袋"), "颗粒": _f("颗粒", "颗粒", "袋"), "冲剂": _f("颗粒", "颗粒", "袋"),
    "散剂": _f("散", "散", "袋"), "散": _f("散", "散", "袋"), "茶剂": _f("茶", "茶", "袋"),
    "口服液": _f("口服液", "口服液", "支"), "口服溶液": _f("口服液", "口服液", "支"),
    "糖浆剂": _f("糖浆", "糖浆", None), "糖浆": _f("糖浆", "糖浆", None), "合剂": _f("合剂", "合剂", None),
    "酊剂": _f("酊", "酊", None), "酒剂": _f("酒", "酒", None), "露剂": _f("露", "露", None),
    "煎膏剂": _f("膏", "膏", None), "膏滋": _f("膏", "膏", None), "蜜膏": _f("膏", "膏", None),
    "流浸膏": _f("膏", "膏", None), "胶剂": _f("胶", "胶", "块"), "曲剂": _f("曲", "曲", None),
    "锭剂": _f("锭", "锭", "锭"),
    "注射液": _f("注射", "注射", "支", "injection"), "注射剂": _f("注射", "注射", "支", "injection"),
    "注射用": _f("注射", "注射", "支", "injection"), "针剂": _f("注射", "注射", "支", "injection"),
    "粉针": _f("注射", "注射", "支", "injection"), "冻干粉": _f("注射", "注射", "支", "injection"),
    "安瓿": _f("注射", "注射", "支", "injection"), "输液": _f("注射", "注射", "瓶", "injection"),
    "栓剂": _f("栓", "栓", "粒", "local"), "栓": _f("栓", "栓", "粒", "local"),
    "贴膏": _f("贴", "贴", "贴", "external"), "贴剂": _f("贴", "贴", "贴", "external"),
    "膏药": _f("贴", "贴", "贴", "external"), "橡胶膏": _f("贴", "贴", "贴", "external"),
    "软膏": _f("软膏", "软膏", None, "external"), "乳膏": _f("软膏", "软膏", None, "external"),
    "气雾剂": _f("喷", "喷", None, "inhaled"), "喷雾剂": _f("喷", "喷", None, "inhaled"),
    "滴眼液": _f("滴眼", "滴眼", None, "eye"), "眼膏": _f("滴眼", "滴眼", None, "eye"),
    "滴耳液": _f("滴耳", "滴耳", None, "ear"), "滴耳剂": _f("滴耳", "滴耳", None, "ear"),
    "滴鼻液": _f("滴鼻", "滴鼻", None, "nasal"), "滴鼻剂": _f("滴鼻", "滴鼻", None, "nasal"),
})
# form name → Form (the first spelling that names it)
FORMS_BY_NAME: Final[Mapping[str, Form]] = MappingProxyType(
    {f.name: f for f in reversed(list(FORMS.values()))}
)
# Route words in usage texts (the regimen's route); the product's route comes from its form.
ROUTE_WORDS: Final[Mapping[str, str]] = MappingProxyType({
    "口服": "oral", "内服": "oral", "冲服": "oral", "吞服": "oral", "嚼服": "oral", "含服": "oral", "含化": "oral",
    "送服": "oral", "温服": "oral", "调服": "oral", "化服": "oral",
    "静脉注射": "injection", "静脉滴注": "injection", "静脉输注": "injection", "静注": "injection",
    "静滴": "injection", "静脉": "injection", "肌内注射": "injection", "肌肉注射": "injection",
    "肌注": "injection", "皮下注射": "injection", "皮下": "injection", "皮内": "injection", "注射": "injection",
    "滴注": "injection", "输注": "injection", "腔内": "injection", "鞘内": "injection",
    "胸腔": "injection", "腹腔": "injection", "动脉": "injection",
    "外用": "external", "外敷": "external", "涂": "external", "贴敷": "external", "贴于": "external",
    "吸入": "inhaled", "雾化": "inhaled", "喷鼻": "inhaled", "鼻腔": "inhaled", "喷": "inhaled",
    "直肠": "local", "肛门": "local", "塞肛": "local", "灌肠": "local", "阴道": "local",
    "滴眼": "eye", "点眼": "eye", "滴耳": "ear", "滴鼻": "nasal", "漱口": "external", "含漱": "external",
})

# Form words a usage text names a regimen by (水蜜丸一次6g, 胶囊剂一次4粒): oral forms of two characters or more.
USAGE_FORM_WORDS: Final = tuple(k for k, f in FORMS.items() if len(k) >= 2 and f.route == "oral" and k != "丸剂")
# longest spelling first at each place, as a trie (fails at the first character that fits no form)
FORM_PATTERN: Final = trie_pattern(FORMS)
ROUTE_PATTERN: Final = trie_pattern(ROUTE_WORDS)
_FORM_RE: Final = re.compile(FORM_PATTERN)
_GENERIC_FORM_WORD: Final = re.compile(r"(?<![缓控肠分泡咀含衣素])(?:片剂|丸剂|胶囊剂)")  # a listed form, not a unit word
_BIG_PILL: Final = re.compile(r"每丸(?:重|装)?约?(?:[3-9]|[1-9]\d)(?:\.\d+)?(?:g|克)")  # a pill of 3 g or more


def lookup_form(spelling: str) -> Form | None:
    """The `Form` a spelling names.

    Examples
    --------
    >>> lookup_form("大蜜丸")
    Form(name='大蜜丸', family='丸', unit='丸', route='oral')
    >>> lookup_form("注射液").route
    'injection'
    """
    return FORMS.get(spelling)


def find_forms(text: str | None) -> list[Form]:
    """Every dosage form named in `text`, in order, longest spelling first at each place.

    Examples
    --------
    >>> [f.name for f in find_forms("水蜜丸每10粒重1g，大蜜丸每丸重9g")]   # 每丸 names the generic 丸
    ['水蜜丸', '大蜜丸', '丸']
    """
    if not text:
        return []
    if "饮片" in text:  # 相当于饮片3g: herb slices, not a tablet
        text = text.replace("饮片", "")
    return [FORMS[word] for word in _FORM_RE.findall(text)]  # the pattern has no groups: findall gives the words


@lru_cache(maxsize=8192)
def product_form(name: str | None, spec: str | None) -> Form | None:
    """This product's form: from `name` first, refined or supplied by `spec` when it names one family.

    Examples
    --------
    >>> product_form("黄葵胶囊", "每粒装0.5g").name
    '胶囊'
    >>> product_form("龟鹿滋肾丸", "大蜜丸每丸重9g。").name   # the spec narrows 丸 to 大蜜丸
    '大蜜丸'
    >>> product_form(None, "1.片剂：2mg；2.注射剂：2mg。") is None   # two forms: nothing chosen
    True
    """
    named = find_forms(name)
    from_name = named[-1] if named else None
    from_spec = None
    spec_forms = find_forms(spec)
    families = {f.family for f in spec_forms}
    if len(families) == 1:
        specific = [f for f in spec_forms if f.name != f.family] or spec_forms  # 大蜜丸每丸重9g: 大蜜丸
        if specific is not spec_forms and _GENERIC_FORM_WORD.search(spec or ""):
            specific = spec_forms  # 1.片剂：80mg；2.缓释片：30mg: two kinds listed, the spec picks neither
        names = {f.name for f in specific}
        from_spec = specific[0] if len(names) == 1 else FORMS.get(spec_forms[0].family)
    if from_spec is not None and from_spec.name == "丸" and all(f.name == f.family for f in spec_forms) \
            and _BIG_PILL.search(spec or ""):
        from_spec = FORMS["大蜜丸"]  # 每丸重9g naming no kind of pill: only a 大蜜丸 weighs grams
    if from_name is None:
        return from_spec
    if from_spec is not None and from_spec.family == from_name.family and from_name.name == from_name.family:
        return from_spec
    return from_name


def form_match(marker: Form, product: Form) -> int:
    """How well a regimen's form marker fits the product: 2 exact, 1 same family, 0 not.

    Examples
    --------
    >>> form_match(lookup_form("大蜜丸"), lookup_form("丸")), form_match(lookup_form("胶囊"), lookup_form("丸"))
    (1, 0)
    """
    if marker.name == product.name:
        return 2
    if marker.family == product.family and (product.name == product.family or marker.name == marker.family):
        return 1
    return 0
