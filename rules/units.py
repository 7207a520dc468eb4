"""Dose units: spellings, what each measures, and which ones count one unit of a pack.

Tables, not code: a pharmacist adds a spelling to `UNIT_SYNONYMS` or a countable unit to
`COUNT_UNITS` without reading the parser. The dose regexes are built from `UNIT_PATTERN`.
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final, Iterable, Literal, Mapping

__all__ = [
    "UNIT_SYNONYMS", "MASS_IN_G", "VOLUME_IN_ML", "COUNT_UNITS", "MULTI_DOSE_UNITS", "PIECE_UNITS", "CONTAINER_UNITS", "HOUSEHOLD_UNITS",
    "SAME_COUNT_UNIT", "UNIT_PATTERN", "trie_pattern", "Dimension", "normalise_unit", "dimension", "to_base", "same_count_unit",
]

Dimension = Literal["mass", "volume", "count", "activity", "household", "other"]

# Spelling → normalised unit (DAILY_DOSE.md "Units"). Countable units stay as written.
UNIT_SYNONYMS: Final[Mapping[str, str]] = MappingProxyType({
    "克": "g", "g": "g", "G": "g", "公斤": "kg", "千克": "kg", "kg": "kg",
    "毫克": "mg", "mg": "mg", "MG": "mg", "Mg": "mg",
    "微克": "μg", "μg": "μg", "ug": "μg", "mcg": "μg", "纳克": "ng", "ng": "ng",
    "毫升": "ml", "ml": "ml", "mL": "ml", "ML": "ml", "Ml": "ml", "cc": "ml", "升": "L", "L": "L",
    "国际单位": "IU", "万国际单位": "万IU", "IU": "IU", "万IU": "万IU", "万单位": "万U", "万U": "万U",
    "单位": "U", "U": "U", "KU": "KU", "mmol": "mmol", "mEq": "mEq",
} | {u: u for u in ("BU", "KE", "KIU", "PNU", "AXaIU")})  # 巴曲酶 BU, 溶链菌 KE, 抑肽酶 KIU, allergen PNU, 依诺肝素 AXaIU
MASS_IN_G: Final[Mapping[str, float]] = MappingProxyType({"kg": 1000.0, "g": 1.0, "mg": 1e-3, "μg": 1e-6, "ng": 1e-9})
VOLUME_IN_ML: Final[Mapping[str, float]] = MappingProxyType({"L": 1000.0, "ml": 1.0})
ACTIVITY_UNITS: Final = frozenset({"IU", "万IU", "万U", "U", "KU", "mmol", "mEq", "BU", "KE", "KIU", "PNU", "AXaIU"})  # kept as written

# Countable units: a dose stated in one of them is already counted (DAILY_DOSE.md "Units").
COUNT_UNITS: Final = frozenset({"粒", "片", "丸", "袋", "包", "支", "贴", "锭", "块", "枚", "滴", "喷", "揿", "格", "帖", "粒", "剂", "瓶", "张", "只", "条", "吸", "掀", "贴片", "安瓿"})
# Countable, but not a single-dose kind of unit: a pack holds them by the hundred (a 10 ml bottle of
# drops, an aerosol of 200 puffs), so they are a `count_unit` only where there is no spec and no
# package at all (DAILY_DOSE.md "Which units count").
MULTI_DOSE_UNITS: Final = frozenset({"滴", "喷", "揿", "吸", "掀"})
# The piece of a dosage form a pack is counted in (what an `s` of `0.3g*12s` or a slip 一次2～3次 stands for).
PIECE_UNITS: Final = ("粒", "片", "丸", "袋", "包", "支", "贴", "锭", "枚")
# Containers count only when the dose is stated in them or one holds at most one dose.
CONTAINER_UNITS: Final = frozenset({"瓶", "罐", "盒", "听", "桶", "小瓶", "管"})
# Household measures are not units (use the weight/volume beside them when given).
HOUSEHOLD_UNITS: Final = frozenset({"瓶盖", "匙", "勺", "杯", "茶匙", "汤匙", "小匙", "羹匙", "量杯"})
# Units that name the same thing for conversion (粒/丸 for pills, 包/袋 for sachets).
SAME_COUNT_UNIT: Final[Mapping[str, str]] = MappingProxyType({"丸": "粒", "粒": "粒", "包": "袋", "袋": "袋", "安瓿": "支"})

def trie_pattern(words: Iterable[str]) -> str:
    """A regex (no groups) matching any of `words`, longest first, as a trie so it fails fast.

    ASCII words must not run on into letters (``mg`` is not the start of ``mgs``).

    Examples
    --------
    >>> trie_pattern(["毫克", "毫升", "克"])
    '(?:克|毫(?:克|升))'
    >>> bool(re.fullmatch(trie_pattern(["mg", "g"]), "mg"))
    True
    """
    trie: dict = {}
    for word in set(words):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = word

    def build(node: dict) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            branches.append(re.escape(ch) + build(node[ch]))
        if "" in node:
            end = "(?![A-Za-z])" if node[""].isascii() else ""
            branches.append(end)  # shortest last: the longer spellings are tried first
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(trie)


_ALL_SPELLINGS = set(UNIT_SYNONYMS) | COUNT_UNITS | CONTAINER_UNITS | HOUSEHOLD_UNITS
# Regex fragment (no groups) matching any unit spelling, longest first.
UNIT_PATTERN: Final = trie_pattern(_ALL_SPELLINGS)


def normalise_unit(raw: str) -> str:
    """The normalised spelling of a unit (克 → g, 毫升 → ml); countable units as written.

    Examples
    --------
    >>> normalise_unit("毫克"), normalise_unit("mL"), normalise_unit("粒")
    ('mg', 'ml', '粒')
    """
    return UNIT_SYNONYMS.get(raw, raw)


def dimension(unit: str | None) -> Dimension:
    """What a normalised unit measures.

    Examples
    --------
    >>> dimension("mg"), dimension("ml"), dimension("袋"), dimension("瓶盖"), dimension("万U")
    ('mass', 'volume', 'count', 'household', 'activity')
    """
    if unit in MASS_IN_G:
        return "mass"
    if unit in VOLUME_IN_ML:
        return "volume"
    if unit in COUNT_UNITS or unit in CONTAINER_UNITS:
        return "count"
    if unit in HOUSEHOLD_UNITS:
        return "household"
    if unit in ACTIVITY_UNITS:
        return "activity"
    return "other"


def to_base(value: float, unit: str) -> float | None:
    """Value in the base unit of its dimension (g for mass, ml for volume); ``None`` otherwise.

    Examples
    --------
    >>> to_base(250, "mg"), to_base(1, "L"), to_base(3, "粒") is None
    (0.25, 1000.0, True)
    """
    factor = MASS_IN_G.get(unit) or VOLUME_IN_ML.get(unit)
    return value * factor if factor else None


def same_count_unit(a: str | None, b: str | None) -> bool:
    """Whether two count units are the same for conversion (粒 ≡ 丸, 袋 ≡ 包).

    Examples
    --------
    >>> same_count_unit("丸", "粒"), same_count_unit("包", "袋"), same_count_unit("片", "粒")
    (True, True, False)
    """
    if a is None or b is None:
        return False
    return a == b or SAME_COUNT_UNIT.get(a, a) == SAME_COUNT_UNIT.get(b, b)
