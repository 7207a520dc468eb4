"""How often a dose is taken: frequency phrases → times per day.

`FREQUENCY_RULES` is the table. Each rule is a regex template over normalised text (see
`rules.numerals.normalise_text`: ranges are ``~``) with ``{A}``/``{B}`` for numbers, and how
the numbers become times per day. `rules.dose` embeds every rule in its one scanner regex, and
`parse_frequency` reads a single phrase with the same table.
"""
from __future__ import annotations

import re
from typing import Callable, Final, Iterable

from rules.numerals import LATIN_FREQUENCY, NUMBER_PATTERN, parse_number
from rules.scanner import first_char_guard, first_chars

__all__ = [
    "FrequencyRule", "FREQUENCY_RULES", "DAY_PREFIX", "frequency_pattern", "times_per_day", "frequency_at", "parse_frequency",
]

Range = tuple[float, float]
Convert = Callable[[float], float]

# Words that open a "per day" phrase: 一日 / 每日 / 每天 / 日服 / 1日 … (一曰 is fixed upstream).
DAY_PREFIX: Final = r"(?:一日|每日|每天|一天|1日|1天|每1日|每一日|全日|(?<![\d一二两三四五六七八九十第])(?:日|天))"
_VERB: Final = r"(?:[内口]?服用?|用药|给药|服药|使用|用|注射|吸入|滴注|静滴|肌注|静注|喷|涂|含服|冲服|分|早晚|饭后|饭前|约|给予|涂抹|外用|敷|更换|换药)?"
_TIMES: Final = r"(?:{A}(?:(?:~|或|、|-)+{B})?)"
_TIME_OF_DAY: Final = r"(?:早晨|早上|清晨|晨起|上午|中午|下午|晚上|晚间|临睡前|睡前)"


class FrequencyRule(tuple):
    """(name, regex template, convert): ``convert(n)`` maps a matched number to times per day."""

    __slots__ = ()

    def __new__(cls, name: str, template: str, convert: Convert | None = None,
                fixed: float | Range | None = None):
        return super().__new__(cls, (name, template, convert, fixed))

    name = property(lambda self: self[0])
    template = property(lambda self: self[1])
    convert = property(lambda self: self[2])
    fixed = property(lambda self: self[3])


def _same(n: float) -> float:
    return n


# Order matters where two rules match at one place: the earlier wins.
FREQUENCY_RULES: Final[tuple[FrequencyRule, ...]] = (
    FrequencyRule("every_n_days", r"(?:每(?:隔)?|(?<![\d.第~])){A}(?:~{B})?(?:日|天)" + _VERB + r"(?:1|一)次(?![\d一二两三四五六七八九十半约服])", lambda n: 1 / n),
    FrequencyRule("once_per_n", r"(?:1|一)次/{A}(?:~{B})?(?:天|日|d)(?![a-z])", lambda n: 1 / n),  # 1次/4～7天
    FrequencyRule("every_n_weeks", r"(?:每(?:隔)?|(?<![\d.第~])){A}(?:~{B})?周" + _VERB + r"(?:1|一)次(?![\d一二两三四五六七八九十半约服])", lambda n: 1 / (7 * n)),
    # 间日 = 隔日; 1日或间日1次 / 每日或隔日一次 / 连日或隔日给药 / 每天1次或隔日1次: once a day or every other
    # day (before per_day, which would read 每天1次 alone)
    FrequencyRule("daily_or_every_other_day", r"(?:每日|每天|一日|一天|1日|连日)(?:(?:1|一)次)?或(?:隔|间)(?:日|天)(?:" + _VERB + r"(?:1|一)次)?", fixed=(0.5, 1.0)),
    FrequencyRule("each_day", r"(?<=\d)(?:天|日)各" + _VERB + _TIMES + r"次", _same),  # 第2、3天各服1次
    FrequencyRule("per_day", DAY_PREFIX + _VERB + _VERB + _TIMES.replace("{A}", "{A}") + r"次", _same),
    FrequencyRule("per_day_slash", _TIMES + r"次/(?:d|日|天|day|24h)(?![a-z])", _same),
    FrequencyRule("per_day_bare_slash", r"(?<![\d.])" + _TIMES + r"/(?:d|日|天)(?![a-z])", _same),
    FrequencyRule("once_n_times", r"一次" + _TIMES + r"次", _same),  # 一次2~3次: a slip, resolved in rules.dose
    FrequencyRule("per_day_after", _TIMES + r"次(?:每日|每天|/每日)", _same),
    FrequencyRule("split_into", r"分" + _TIMES + r"次", _same),
    FrequencyRule("every_n_hours", r"(?:每隔?|q){A}(?:(?:~|-){B})?(?:小时|h|个小时)(?:(?:1|一)次)?", lambda n: 24 / n),
    FrequencyRule("n_hours_once", r"(?<![\d.~]){A}(?:~{B})?(?:小时|h|个小时)(?:换药|更换|换)?(?:1|一)次", lambda n: 24 / n),  # 4h一次, 24小时换药一次
    FrequencyRule("per_week", r"(?:每|一|1)周" + _VERB + _TIMES + r"次", lambda n: n / 7),
    FrequencyRule("weekly", r"每周(?:1|一)次|(?:1|一)次/周", fixed=1 / 7),
    FrequencyRule("per_month", r"(?:每|一|1)月" + _VERB + _TIMES + r"次", lambda n: n / 30),
    FrequencyRule("every_other_day", r"(?:隔|(?<![期中时空夜])间)(?:日|天)(?:" + _VERB + r"(?:1|一)次)?", fixed=0.5),
    FrequencyRule("morning_and_evening", r"早(?:\([^()]{0,6}\))?[、,]?晚(?:\([^()]{0,6}\))?(?:各|分|两次|2次|饭[前后]各|服用?各?)"
                  r"|早[、,]?晚[餐饭][前后][^,;。\d]{0,2}(?:\d+(?:min|分钟))?各|早[、,]?中[、,]?晚各", fixed=2.0),  # 早、晚餐前30min各服1次
    FrequencyRule("morning_then_evening", r"早(?:上|晨)?服(?=[^。]{0,20}晚(?:上)?服)", fixed=2.0),
    FrequencyRule("three_meals", r"三餐(?:前|后)?各|每餐", fixed=3.0),
    # 早晨及睡前各服一次 / 每天睡前和晨起排便后分别用药1枚: two times of day named, each once
    FrequencyRule("two_times_of_day", rf"{_TIME_OF_DAY}(?:及|和|与|、){_TIME_OF_DAY}[^,;。\d]{{0,8}}?(?:各|分别)", fixed=2.0),
    FrequencyRule("nightly", r"(?:每晚|每晨|每早|晨起|每日睡前|每晚睡前|(?:临睡前|睡前|早晨|清晨)(?=(?:服用?|口服)?(?:1|一)次))(?:服用?|口服|顿服)?(?:(?:1|一)次)?", fixed=1.0),
    FrequencyRule("bedtime", r"(?:临睡前|睡前|临睡时|睡时)(?:服用?|口服|顿服)?", fixed=1.0),  # weak: only when nothing else is said
    FrequencyRule("latin", rf"(?<![A-Za-z]){LATIN_FREQUENCY}(?:~{LATIN_FREQUENCY})?(?![A-Za-z])", None),  # bid, bid～tid
    FrequencyRule("cut_off", DAY_PREFIX + _TIMES + r"[~\-—]?$", _same),  # text cut off right after the number (一日2 / 一日2-)
)
_LATIN: Final = {"qd": 1.0, "qn": 1.0, "bid": 2.0, "tid": 3.0, "qid": 4.0, "qod": 0.5}


def frequency_pattern(rule_index: int) -> str:
    """Regex for rule `rule_index` with groups ``f{i}_a`` / ``f{i}_b`` for its numbers.

    Examples
    --------
    >>> per_day = [rule.name for rule in FREQUENCY_RULES].index("per_day")
    >>> bool(re.fullmatch(frequency_pattern(per_day), "一日2~3次"))
    True
    """
    rule = FREQUENCY_RULES[rule_index]
    return rule.template.replace("{A}", rf"(?P<f{rule_index}_a>{NUMBER_PATTERN})").replace(
        "{B}", rf"(?P<f{rule_index}_b>{NUMBER_PATTERN})"
    )


def times_per_day(rule_index: int, match: re.Match[str]) -> Range | None:
    """Times per day ``(min, max)`` for a match of rule `rule_index`; ``None`` when unreadable.

    Examples
    --------
    >>> i = [rule.name for rule in FREQUENCY_RULES].index("every_n_hours")
    >>> times_per_day(i, re.fullmatch(frequency_pattern(i), "每6~8小时1次"))
    (3.0, 4.0)
    """
    _, _, convert, fixed = FREQUENCY_RULES[rule_index]  # plain unpacking: the properties cost a call each
    if fixed is not None:  # a constant, or a constant range (每日或隔日一次)
        return fixed if isinstance(fixed, tuple) else (fixed, fixed)
    if convert is None:  # latin abbreviations, alone or as a range (bid～tid)
        values = [_LATIN.get(word.lower()) for word in match.group(0).split("~")]
        if not all(values):
            return None
        return (min(values), max(values))
    a_name, b_name = _GROUP_NAMES[rule_index]
    a = parse_number(match.group(a_name) or "")
    if a is None or a <= 0:
        return None
    b_text = match.group(b_name) if _HAS_B[rule_index] else None
    b = parse_number(b_text) if b_text else a
    if b is None or b <= 0:
        return None
    lo, hi = convert(a), convert(b)
    if hi < lo:
        lo, hi = hi, lo
    return (round(lo, 6), round(hi, 6))


_GROUP_NAMES: Final = tuple((f"f{i}_a", f"f{i}_b") for i in range(len(FREQUENCY_RULES)))
_HAS_B: Final = tuple("{B}" in rule.template for rule in FREQUENCY_RULES)  # whether a rule has a second number


def _rules_regex(indices: Iterable[int]) -> re.Pattern[str]:
    """The rules `indices`, in table order, each behind its first-character guard (group ``r{i}`` says which matched)."""
    return re.compile("|".join(f"{first_char_guard(frequency_pattern(i))}(?P<r{i}>{frequency_pattern(i)})" for i in indices))


# each rule behind its first-character guard: the same first match, without trying rules that cannot start here
_ALL: Final = _rules_regex(range(len(FREQUENCY_RULES)))


def _rules_by_first_char() -> tuple[dict[str, re.Pattern[str]], re.Pattern[str] | None]:
    """One regex per first character: only the rules that can start with it (in table order, so the same
    rule wins as in `_ALL`) and the rules whose first characters are unknown; and a regex of those alone
    for any other place (``None`` when every rule's first characters are known)."""
    firsts = [first_chars(frequency_pattern(i)) for i in range(len(FREQUENCY_RULES))]
    anywhere = tuple(i for i, chars in enumerate(firsts) if chars is None)
    by_rules: dict[tuple[int, ...], re.Pattern[str]] = {}
    by_char = {}
    for ch in sorted(set().union(*(chars for chars in firsts if chars is not None))):
        indices = tuple(i for i, chars in enumerate(firsts) if chars is None or ch in chars)
        if indices not in by_rules:
            by_rules[indices] = _rules_regex(indices)
        by_char[ch] = by_rules[indices]
    return by_char, (_rules_regex(anywhere) if anywhere else None)


_BY_FIRST_CHAR, _ANY_FIRST_CHAR = _rules_by_first_char()


def frequency_at(text: str, pos: int) -> tuple[str, Range | None, int] | None:
    """``(rule name, times per day, end)`` of the frequency phrase starting at `pos`, if any.

    Examples
    --------
    >>> frequency_at("口服，一日2~3次。", 3)
    ('per_day', (2.0, 3.0), 9)
    """
    rules = _BY_FIRST_CHAR.get(text[pos:pos + 1], _ANY_FIRST_CHAR)  # the same match as _ALL.match(text, pos)
    match = rules.match(text, pos) if rules is not None else None
    if match is None:
        return None
    index = int(match.lastgroup[1:])
    return FREQUENCY_RULES[index][0], times_per_day(index, match), match.end()


def parse_frequency(text: str) -> Range | None:
    """Times per day of the first frequency phrase in normalised `text`, or ``None``.

    Examples
    --------
    >>> parse_frequency("一日3次"), parse_frequency("一日2~3次"), parse_frequency("3次/d")
    ((3.0, 3.0), (2.0, 3.0), (3.0, 3.0))
    >>> parse_frequency("隔日一次"), parse_frequency("每8小时一次"), parse_frequency("早晚各一次")
    ((0.5, 0.5), (3.0, 3.0), (2.0, 2.0))
    >>> parse_frequency("1日或间日1次"), parse_frequency("间日一次")
    ((0.5, 1.0), (0.5, 0.5))
    >>> parse_frequency("每周2次"), parse_frequency("涂患处") is None
    ((0.285714, 0.285714), True)
    """
    match = _ALL.search(text)
    if match is None:
        return None
    index = int(match.lastgroup[1:])
    return times_per_day(index, match)
