"""Numbers as insert texts write them: Arabic, Chinese numerals, 半, fractions, and OCR slips.

`normalise_text` is the one place where typography is made uniform (full-width forms, range
marks, Latin ``l``/``O`` used as digits, 一曰 for 一日), so every later regex sees one spelling.
`parse_number` reads one number token; `NUMBER_PATTERN` is the regex fragment the parsers embed.
"""
from __future__ import annotations

import html
import re
import unicodedata
from types import MappingProxyType
from typing import Final, Mapping

__all__ = [
    "CN_DIGITS", "LATIN_FREQUENCY", "NUMBER_PATTERN", "RANGE_MARK", "TYPO_FIXES", "normalise_text", "parse_number",
]

# Chinese numerals: digits and the two multipliers that occur in dose texts.
CN_DIGITS: Final[Mapping[str, float]] = MappingProxyType(
    {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2, "俩": 2, "半": 0.5}
)
_CN_MULTIPLIERS: Final[Mapping[str, int]] = MappingProxyType({"十": 10, "百": 100})

# Literal slips read as meant (DAILY_DOSE.md: "unambiguous typos"). Applied in order.
TYPO_FIXES: Final[tuple[tuple[str, str], ...]] = (
    ("一曰", "一日"), ("每曰", "每日"), ("曰服", "日服"), ("l曰", "1日"),
    ("—次", "一次"), ("—日", "一日"), ("—天", "一天"), ("-次", "一次"), ("－次", "一次"),
    ("－日", "一日"), ("-日", "一日"),
    ("次／日", "次/日"),
)
# Everything that separates the two ends of a range becomes "~".
RANGE_MARK: Final = "~"
_RANGE_DASH: Final = r"[～〜∼—–－\-](?=\s*[\dlO.一二两三四五六七八九十半])"
_RANGE_CHARS: Final = re.compile(_RANGE_DASH + r"|(?<=[\d一二两三四五六七八九十袋片粒丸支瓶盖克匙勺杯包gl])\s*(?:至|到)\s*(?=[\d一二两三四五六七八九十半])")
# the same matches when the text has no 至/到; it starts with a character class, so the regex engine
# jumps from one dash to the next instead of trying the lookbehind of 至/到 at every character
_RANGE_DASHES: Final = re.compile(_RANGE_DASH)
# Latin l / O standing for 1 / 0 in a run of digits ("lOml", "1OOmg", "O.5g", "l岁", "一日l～2次").
_LATIN_DIGIT_RUN: Final = re.compile(
    r"(?<![A-Za-z])(?=[0-9lO.]*[lO])[0-9lO][0-9lO.]*(?=[~～\-mgμuLKIU%/岁次袋片粒丸支瓶包天日周个滴喷揿粒克毫微升\d.,，、×*])"
)
# A run above holds an l/O that follows no Latin letter (the first l/O of the run is its first character,
# or follows a digit or dot), so texts without one (`ml`, `mg/kg`) skip the run search.
_LATIN_DIGIT_HINT: Final = re.compile(r"[lO](?<![A-Za-z][lO])")
_AND_A_HALF: Final = re.compile(r"(?<![\d.])(\d+|[一二两三四五六七八九])([丸袋片粒支包])半")  # 1丸半, 一袋半 = 1.5
# Latin frequency abbreviations (rules.frequency reads them); spelled here so a space before one survives
LATIN_FREQUENCY: Final = r"(?:qd|QD|qn|bid|BID|tid|TID|qid|QID|qod)"
_LATIN_GAP: Final = re.compile(rf"(?<=\w)\s+(?={LATIN_FREQUENCY}(?![A-Za-z]))")
_HTML_BREAK: Final = re.compile(r"<br\s*/?>|</?p>", re.IGNORECASE)  # scraped texts keep some markup
_HTML_ENTITY: Final = re.compile(r"&(?:#\d{1,6}|#x[0-9a-fA-F]{1,5}|[a-zA-Z]{2,8});")  # &mdash; &nbsp; &#12316;
# 5万～10万U: the multiplier written on both ends of a range stays only on the second (5～10万U)
_WAN_BOTH_ENDS: Final = re.compile(r"(?<=\d)万(?=~\d+(?:\.\d+)?万)")
# the commonest full-width forms → their NFKC spelling (ASCII): the same result as NFKC, 10× cheaper
_COMMON_FULL_WIDTH: Final = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，：～；（）")
_SPACES: Final = re.compile(r"[ \t\u3000\xa0]+")
_HAS_SPACE: Final = re.compile(r"[ \t\u3000\xa0]")
_HAS_TYPO: Final = re.compile("|".join(re.escape(wrong) for wrong, _ in TYPO_FIXES))
_HAS_RANGE_CHAR: Final = re.compile(r"[～〜∼—–－\-至到]")

_DECIMAL: Final = r"\d+(?:\.\d+)?(?:/\d+)?"
_CHINESE: Final = r"[零〇一二两三四五六七八九十百半]+"
NUMBER_PATTERN: Final = rf"(?:{_DECIMAL}|{_CHINESE})"  # regex fragment, no groups


# circled numbers ①…⑳ (list items) → (1)…(20), a sub-item marker the scanner knows
_CIRCLED: Final = {0x2460 + i: f"({i + 1})" for i in range(20)}


def _fix_latin_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    if not any(ch.isdigit() for ch in run) and len(run) > 2:
        return run
    return run.replace("l", "1").replace("O", "0")


def _and_a_half(match: re.Match[str]) -> str:
    whole = match.group(1)
    return f"{whole if whole.isdigit() else int(CN_DIGITS[whole])}.5{match.group(2)}"


def normalise_text(text: str | None) -> str:
    """One spelling for the insert text: NFKC, no spaces, range marks as ``~``, OCR slips fixed.

    Parameters
    ----------
    text
        Raw 用法用量 (or spec) text; ``None`` gives ``""``.

    Examples
    --------
    >>> normalise_text("口服，一次lOml，一日2～3次。")
    '口服,一次10ml,一日2~3次。'
    >>> normalise_text("一曰3次，—次O.5g")
    '一日3次,一次0.5g'
    >>> normalise_text("一次2&ndash;4片,&nbsp;一次5万～8万U")
    '一次2~4片,一次5~8万U'
    """
    if not text:
        return ""
    if "<" in text:
        text = _HTML_BREAK.sub("", text)
    if "&" in text and _HTML_ENTITY.search(text):
        text = html.unescape(text)
    if not unicodedata.is_normalized("NFKC", text):
        # full-width ，：～；（） are what make most texts non-NFKC; plain replaces are cheaper
        for wide, ascii_form in _COMMON_FULL_WIDTH:
            if wide in text:
                text = text.replace(wide, ascii_form)
        if not unicodedata.is_normalized("NFKC", text):
            # NFKC makes ② a bare 2 (②5～10岁儿童 would read 25~10岁): list markers become (2) first
            text = unicodedata.normalize("NFKC", text.translate(_CIRCLED))
    if _HAS_SPACE.search(text):
        text = _SPACES.sub("", _LATIN_GAP.sub(",", text))  # 0.4g bid → 0.4g,bid (not 0.4gbid)
    if _HAS_TYPO.search(text):
        for wrong, right in TYPO_FIXES:
            text = text.replace(wrong, right)
    if ("l" in text or "O" in text) and _LATIN_DIGIT_HINT.search(text):
        text = _LATIN_DIGIT_RUN.sub(_fix_latin_digits, text)
    if "半" in text:
        text = _AND_A_HALF.sub(_and_a_half, text)
    if _HAS_RANGE_CHAR.search(text):
        text = (_RANGE_CHARS if "至" in text or "到" in text else _RANGE_DASHES).sub(RANGE_MARK, text)
    if "万~" in text:
        text = _WAN_BOTH_ENDS.sub("", text)
    return text


def _parse_chinese(token: str) -> float | None:
    if token == "半":
        return 0.5
    total, current = 0, 0.0
    for ch in token:
        if ch in CN_DIGITS:
            if ch == "半":
                return None
            current = CN_DIGITS[ch]
        elif ch in _CN_MULTIPLIERS:
            total += (current or 1) * _CN_MULTIPLIERS[ch]
            current = 0
        else:
            return None
    return float(total + current)


def parse_number(token: str) -> float | None:
    """Value of one number token, or ``None`` when it is not a number.

    Examples
    --------
    >>> parse_number("2.5"), parse_number("十二"), parse_number("两"), parse_number("半"), parse_number("1/2")
    (2.5, 12.0, 2.0, 0.5, 0.5)
    >>> parse_number("abc") is None
    True
    """
    if not token:
        return None
    if token[0].isdigit():
        if "/" in token:
            numerator, _, denominator = token.partition("/")
            try:
                return float(numerator) / float(denominator) if float(denominator) else None
            except ValueError:
                return None
        try:
            return float(token)
        except ValueError:
            return None
    return _parse_chinese(token)
