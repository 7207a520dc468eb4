"""Daily dose (日均用量) from an insert's 用法用量 text, by the rules of DAILY_DOSE.md.

One pass of one compiled scanner turns the normalised text into events (amounts, frequencies,
daily totals, and markers for route, form, population, age band, loading dose, caps). Amounts
become candidate regimens, each with the markers in force where it stands; the DAILY_DOSE.md
selection rules (form/route → population → first listed, loading doses ignored) pick one; its
daily range is converted to the spec's countable unit. `extract_daily_dose` never raises.
"""
from __future__ import annotations

import re
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Mapping

from rules.conversion import count_daily
from rules.forms import FORMS, ROUTE_WORDS, USAGE_FORM_WORDS, Form, product_form
from rules.frequency import FREQUENCY_RULES, frequency_at, frequency_pattern
from rules.numerals import LATIN_FREQUENCY, NUMBER_PATTERN, normalise_text, parse_number
from rules.regimen import Range, Regimen
from rules.result import DoseResult, determinable_result, not_determinable, sig4
from rules.scanner import compile_scanner, first_char_guard
from rules.selection import select_regimen
from rules.simple import SimpleDose, read_simple
from rules.spec import parse_pack
from rules.units import HOUSEHOLD_UNITS, PIECE_UNITS, UNIT_PATTERN, dimension, normalise_unit, same_count_unit, trie_pattern

__all__ = ["DoseResult", "Regimen", "extract_daily_dose", "clear_caches", "REASONS"]

REASONS: Final = ("no_frequency", "no_amount", "weight_or_area_based", "truncated", "conflicting")

# ---------------------------------------------------------------------------------------------
# Vocabulary tables (a pharmacist extends these; the scanner is built from them)
# ---------------------------------------------------------------------------------------------
ADULT_WORDS: Final = ("成人", "成年人", "成年")
CHILD_WORDS: Final = ("儿童", "少年儿童", "少年", "小儿", "幼儿", "婴儿", "婴幼儿", "新生儿", "患儿", "少儿", "早产儿", "青少年")
ELDERLY_WORDS: Final = ("老年人", "老年患者", "老人")
LOADING_WORDS: Final = ("首次", "首剂", "首日", "首量", "开始时", "开始", "初始", "起始", "启始", "初次", "负荷量", "负荷剂量", "第1天", "第一天", "第1日", "第一日", "冲击量", "洋地黄化", "饱和量", "小剂量开始",
                 "第1周", "第一周", "第1~", "试服", "试验剂量")  # 第1～2周…第3～4周…维持量: titration steps
MAINTENANCE_WORDS: Final = ("维持量", "维持剂量", "维持", "以后", "此后", "之后", "然后", "随后", "继以", "改为", "后改",
                             "第2天", "第2日", "第二天", "第二日", "第2~", "第2、", "次日")  # 第1天0.5g，第2～5天每天0.25g
# after a starting dose of the section (开始5～10mg/d，…可减量至2～4mg/d; 开始2.5mg，…一般用量为每天5～10mg)
# these name the maintenance; elsewhere (成人常用量：每次…) they are only words
REDUCE_WORDS: Final = ("减量至", "减至", "减为", "一般用量", "一般剂量", "常用量", "常规剂量", "治疗剂量", "治疗量", "通常剂量")
LIMIT_WORDS: Final = ("不超过", "不宜超过", "不得超过", "不可超过", "勿超过", "最大", "极量", "最多", "至多", "最高", "上限")
TOTAL_WORDS: Final = ("总量", "总剂量", "累积", "累计")  # without 每日/一日 before them: a course total
CAP_WORDS: Final = LIMIT_WORDS + TOTAL_WORDS
DISCRETIONARY_WORDS: Final = ("酌减", "减半", "酌情", "遵医嘱", "减量", "酌量", "用量减", "剂量减")
# Every marker word → its kind; the scanner reads them as one trie (longest word wins).
WORD_KIND: Final[Mapping[str, str]] = MappingProxyType(
    {w: "route" for w in ROUTE_WORDS} | {w: "form" for w in USAGE_FORM_WORDS}
    | {w: "disc" for w in DISCRETIONARY_WORDS} | {w: "cap" for w in CAP_WORDS}
    | {w: "maint" for w in MAINTENANCE_WORDS} | {w: "loading" for w in LOADING_WORDS} | {w: "reduce" for w in REDUCE_WORDS}
    | {w: "elderly" for w in ELDERLY_WORDS} | {w: "child" for w in CHILD_WORDS} | {w: "adult" for w in ADULT_WORDS}
)
# Text before a bare amount (no 一次/每次) that still makes it a dose: 成人，1.2～1.8g / 服8片.
_BARE_LEAD: Final = re.compile(
    r"^(?:成人|成年人|成年|男性|女性|患者|病人|推荐|儿童|小儿|患儿|每晚|每晨|睡前|临睡前|晨起|早晨|早上|晚上|早|晚|[内口吞含嚼冲]?服用?|维持量|维持剂量|维持|剂量为?|用量为?|"
    r"推荐剂量为?|常用剂量为?|常用量为?|一般为|一般|约|为|均|即|可|再|则|量|开始时?|初始|起始|首次|首剂|"
    r"[^,;。:]{0,8}?岁[^,;。:]{0,4}?|[^,;。:]{0,4}?(?:丸|片|胶囊|颗粒|散|液|汤)剂?)*$"
)


# ---------------------------------------------------------------------------------------------
# The scanner: one regex, each token behind a first-character guard
# ---------------------------------------------------------------------------------------------
_NUM: Final = NUMBER_PATTERN
_BRACKET: Final = r"(?:\([^()]{1,16}\))?"


def _qty(p: str) -> str:
    """A quantity with a unit: ``2~3粒``, ``半袋(2g)~1袋(4g)``, ``0.5~1g``; groups prefixed by `p`."""
    return (
        rf"(?P<{p}a>{_NUM})(?:(?P<{p}u1>{UNIT_PATTERN}){_BRACKET}(?:(?:~|或)(?P<{p}b>{_NUM})(?P<{p}u2>{UNIT_PATTERN})?{_BRACKET})?"
        rf"|(?:~|或)(?P<{p}c>{_NUM})(?P<{p}u3>{UNIT_PATTERN}){_BRACKET})"
    )


_DAY: Final = r"(?:一日|每日|每天|一天|1日|1天|每1日|全日|(?<![\d一二两三四五六七八九十第])日)"
_DOSE_LEAD: Final = r"(?:一次|每次|1次|每回|一回|单次|每剂|每服|次|一(?=\d))"  # 一4片: a slip for 一次4片
_FILLER: Final = r"(?:[^\d,;。:~()一二两三四五六七八九十半次日天]{0,6}?)"
_TOKENS: Final = [
    ("stop", r"。"),  # punctuation first: no other token starts with it, and it is the commonest
    ("comma", r"[,:;]"),
    ("sec", r"(?:(?<=^)|(?<=[。;,:)\]]))(?:\d{1,2}[.、](?![\d])|[一二三四五六七八九十][、.])"),
    ("sub", r"\(\d{1,2}\)|[①-⑳]|(?:(?<=^)|(?<=[。;,:]))[a-zA-Z][.、)]"),
    # every frequency rule in one token (each behind its own guard); `frequency_at` says which one matched
    ("freq", "|".join(first_char_guard(frequency_pattern(i)) + f"(?:{frequency_pattern(i)})"
                      for i in range(len(FREQUENCY_RULES)))),
    ("daily", rf"(?:{_DAY}|每24小时)(?:总?量|剂量|用量)?(?:[内口]?服用?|用药|给药|服药|用|量|为|约|吸入|注射|冲服|内服|研汁冲服)?{_FILLER}{_qty('d')}(?!/次|次)"),
    ("dose", rf"{_DOSE_LEAD}(?:量)?{_FILLER}{_qty('p')}"),
    ("post", rf"{_qty('q')}/次"),
    ("bare", _qty("b")),
    # ages: 1~3岁, 五岁以下, 周岁以内; months only as an age (6个月以下, 3个月~1岁, 6个月婴儿), not 连续2~3个月
    ("age", rf"(?:{_NUM}(?:~{_NUM})?(?:周岁|岁|(?:个月|月龄)(?=以下|以内|以上|~|至|婴|小儿|儿童|患儿|者|的|\())"
            rf"(?:~{_NUM}(?:周岁|岁))?(?:以下|以内|以上|及以上|或以上|之内|内)?|周岁以内|不满{_NUM}(?:周)?岁|周岁|{_NUM}周以下)"),
    ("word", trie_pattern(WORD_KIND)),
]
_SCANNER: Final = compile_scanner(_TOKENS)
# the scanner drops inner groups; an amount token's own regex, matched again where it stands, reads them
_AMOUNT_TOKEN: Final = {name: re.compile(p) for name, p in _TOKENS if name in ("daily", "dose", "post", "bare")}
_PER_BODY: Final = re.compile(r"^(?:/|每)(?:\(?kg|公斤|千克|m2|m²|平方米|体重|kg)|^/\(kg|^/m(?:2|²)?(?![a-z])|^/\(m")
_PER_BODY_WORD: Final = r"(?:每公斤|每千克|每kg|体重|体表面积|每平方米)"  # 按体重 / 按体表面积 hold them
_PER_BODY_BEFORE: Final = re.compile(_PER_BODY_WORD + r"[^,;。]{0,4}$")
_RATE_AFTER: Final = re.compile(r"^/(?:min|h|小时|分钟|ml|L|d|日|天)")
_BODY_HINT: Final = re.compile(r"体|公斤|千克|kg|平方米")
_SPEC_AFTER: Final = re.compile(r"^/(?:粒|片|丸|袋|包|支|瓶|盒|块|贴|次)")
_PER_DAY_AFTER: Final = re.compile(r"^/(?:d|日|天|day)(?![a-z])")
_BRACKET_QTY: Final = re.compile(rf"[\u4e00-\u9fff]?\(约?(?P<a>{_NUM})(?P<u1>{UNIT_PATTERN})?(?:~(?P<b>{_NUM})(?P<u2>{UNIT_PATTERN}))?\)")
_HERB_LEAD: Final = re.compile(r"(?:煎服|水煎服|内服|煎汤服?|汤剂|用量|常用量|一般)?$")  # 饮片: `3～9g。`, `煎服，3～10g。`
_VERB_LEAD: Final = re.compile(r"(?:(?:服|服用|给药|给予|用药|注射|注入|滴注|静滴|静注|肌注|使用|吸入|取)(?:本品|本药|药液)?|用(?:本品|本药)"
                             r"|(?:取|将)[^,;。:\d]{0,10}?(?:洗液|溶液|液|酊|油|栓剂|栓|胶囊)"  # 取洁阴康洗液50ml, 将栓剂1粒
                             r"|(?:放入|塞入|纳入|置入|推入|贴于)[^,;。:\d]{0,10}?)约?$")  # 放入阴道后穹窿处1枚
# an amount the drug is dissolved in or diluted with (溶于…生理盐水40ml), not a dose
_DILUENT_LEAD: Final = re.compile(r"溶于|溶解于|稀释于|稀释至|加入|配成")
_STARTING_AMOUNT: Final = re.compile(r"[^,;。:]{0,4}?(?:\d|每次|一次|剂量|量为|[一二两三四五六七八九十半]次)")
# cut off after 一次 / 一日 / 每 / a comma, or right after a dose's number (大蜜丸一次1)
_TRUNCATED_END: Final = re.compile(rf"(?:(?<![\d周日天月])(?:一次|每次|1次|每回)(?:约?{_NUM})?|{_DAY}|(?:一次|每次)(?:服用?|约|口服)|每|,|:|~|或)$")
# a dose per kg or m² in any unit, also one the unit table lacks (1mCi/kg, 每公斤体重2MBq)
_PER_BODY_ANY: Final = re.compile(r"\d[A-Za-zμ\u4e00-\u9fff]{0,5}/\(?(?:kg|公斤|千克|m2|m²)|(?:每公斤|每千克|每kg|按体表面积|每平方米)[^,;。]{0,8}\d")
_FREQUENCY_CAP_BEFORE: Final = re.compile(r"(?:最大|最高|最多|至多|不超过|不宜超过|不得超过)(?:给药|服药|用药|使用)?(?:频率|频次|次数)?[,:为]?$")
_AND: Final = "及和与、"  # 成人及儿童, 成人和12岁以上儿童
_ELDERLY_FROM_AGE: Final = 60.0  # an open band from this age up (65岁以上) is the elderly population
_ADULT_DOSE_FROM_AGE: Final = 12.0  # an open band from this age up takes the adult dose (12岁以上患者)
_ADULT_WEIGHT_KG: Final = 35.0  # an open weight band from this up is adults (体重≥40kg的患者)
_NO_UPPER_AGE: Final = 200.0  # `_age_band`'s upper end of an open band (N岁以上)
_BRACKET_FORM: Final = re.compile(rf"\(({trie_pattern(USAGE_FORM_WORDS)})\)")
_BAND_LABEL_AFTER: Final = re.compile(r"(?:以上|以下)?(?:[,:;)]|者|的|儿童|小儿|患儿)")
_DAY_WORD: Final = re.compile(_DAY)
_EACH_TIME: Final = re.compile(r"早[、,]?晚各|早[、,]?中[、,]?晚各")
_LATIN_AFTER: Final = re.compile(rf",?{LATIN_FREQUENCY}(?![A-Za-z])")
_PER_BODY_INSIDE: Final = re.compile(_PER_BODY_WORD)
_DOUBLED: Final = re.compile(r"(?:剂量|用量|量)?(?:加倍|倍量)")
_DISEASE_AFTER: Final = re.compile(r"念珠菌|滴虫|炎|癌|肿瘤|感染|出血|脱垂|疾病")
_RAISE_BEFORE: Final = re.compile(r"(?:增加至|增至|加至|可达|达到|提高至|至多|最多)$")
_INCREMENT: Final = re.compile(r"增加|递增|增量|加量|减少|递减")
_PER_WEEK_LEAD: Final = re.compile(r"每周(?:[内口]?服用?|用药|给药|剂量为?|总量)?约?")  # the whole clause before the amount
_HERB_HINT: Final = re.compile(r"^(?:[^,;。]{0,6}[,:])?约?" + _qty("h") + r"(?:[。;,]|$)")


# ---------------------------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------------------------
def _read_qty(m: re.Match[str], p: str) -> tuple[Range, str] | None:
    a_text, b_text, c_text, u1, u2, u3 = m.group(*_QTY_GROUPS[p])
    a = parse_number(a_text)
    if c_text is not None:
        b, unit = parse_number(c_text), u3
    elif u1 and u2 and not same_count_unit(normalise_unit(u1), normalise_unit(u2)) and dimension(normalise_unit(u2)) == "count":
        b, unit = a, u1  # 每次2片或1丸: another form's dose, not a range
    elif b_text and "或" in m.group(0) and ("(" in m.group(0) or (parse_number(b_text) or 0) < (a or 0)):
        b, unit = a, u1 or u2  # 一次5g(含糖型)或2g(无糖型), 一次20g或8g: two products' doses, the first listed
    else:
        b = parse_number(b_text) if b_text else a
        unit = u1 or u2
    if a is None or b is None or unit is None:
        return None
    lo, hi = (a, b) if a <= b else (b, a)
    if hi <= 0:
        return None
    return (lo, hi), normalise_unit(unit)


_QTY_GROUPS: Final = {p: tuple(p + g for g in ("a", "b", "c", "u1", "u2", "u3")) for p in "dpqbh"}
_LIMIT_WORD: Final = re.compile("|".join(map(re.escape, LIMIT_WORDS)))  # any of them in a text
_CAP_BEFORE: Final = re.compile("(?:" + "|".join(map(re.escape, LIMIT_WORDS)) + r")[^,;。]{0,4}$")  # 最大剂量每次100mg


_NUMBER_RE: Final = re.compile(_NUM)


def _joins_previous(text: str, start: int, last_pop_end: int) -> bool:
    """Whether a population word at `start` is joined by 及/和/与/、 to the one just before (成人及…)."""
    return start - last_pop_end == 1 and text[start - 1] in _AND


def _age_band(text: str) -> tuple[float, float]:
    if "月" in text and "岁" in text:  # 6个月~1岁: the months in years
        numbers = [(parse_number(x) or 0.0) / (12 if "月" in part else 1)
                   for part in text.split("~") for x in _NUMBER_RE.findall(part)]
    else:
        numbers = [parse_number(x) or 0.0 for x in _NUMBER_RE.findall(text)]
        if "月" in text:
            numbers = [n / 12 for n in numbers]
    if "周岁以内" in text or "不满" in text or not numbers:
        return (0.0, numbers[0] if numbers and "不满" in text else 1.0)
    if "以上" in text or text[0] in "≥>":
        return (numbers[0], _NO_UPPER_AGE)
    if "以下" in text or "内" in text or text[0] in "≤<":  # 以下 / 以内 / 之内 / 内
        return (0.0, numbers[-1])
    return (numbers[0], numbers[-1])


_AMOUNT_PREFIX: Final = {"daily": "d", "dose": "p", "post": "q", "bare": "b"}  # token → its group prefix


def _scan(text: str) -> tuple[list[Regimen], dict[str, Any]]:
    """Events → candidate regimens with their context markers; plus whole-text facts."""
    regimens: list[Regimen] = []
    freqs: list[tuple[int, int, Range, str, int, int, int]] = []  # start, end, times, rule, sentence, section, sub
    facts: dict[str, Any] = {"maint_without_amount": False, "per_body_any": False, "has_dose_lead": False}
    population, band = "adult", None
    form: Form | None = None
    route: str | None = None
    loading_pending, maint_pending, cap_pending, maint_explicit, cap_carried = False, False, False, False, False
    section = sub = sentence = clause_no = group = 0  # group: the stretch between ; or 。
    last_pop_end = last_freq_end = last_phase_end = -10
    maint_without_amount = False
    clause_start = 0
    for m in _SCANNER.finditer(text):
        kind = m.lastgroup or ""
        if kind == "word":
            kind = WORD_KIND[m.group(0)]
            if kind == "reduce":  # names the maintenance only after a starting dose of its section (a reduction: just after it)
                after_start = regimens[-1].loading if m.group(0).startswith("减") and regimens else \
                    any(r.loading and r.section == section for r in regimens)
                kind = "maint" if after_start and regimens and regimens[-1].section == section else "none"
        start, end = m.span()
        if kind == "comma":
            clause_no += 1
            clause_start = end
            if m.group(0) == ",":
                cap_pending, cap_carried = cap_carried, False  # 极量为每次20mg，每天50mg: the cap runs on
            elif m.group(0) == ";":
                group += 1
            continue
        if kind == "stop":
            if maint_pending and any(r.loading for r in regimens):
                maint_without_amount = True  # 以后维持量酌减。: the maintenance has no amount
            maint_pending = cap_pending = cap_carried = False
            sentence += 1
            clause_no += 1
            group += 1
            clause_start = end
            continue
        if kind == "sec":
            group += 1
            section += 1
            sub = 0
            sentence += 1
            clause_no += 1
            population, band, form, route = "adult", None, None, None
            loading_pending = maint_pending = cap_pending = cap_carried = False
        elif kind == "sub":
            group += 1
            sub += 1
            sentence += 1
            clause_no += 1
            if population == "band":
                population, band = "adult", None
            loading_pending = cap_pending = cap_carried = False
        elif kind == "freq":
            rule, times, _ = frequency_at(text, start) or ("", None, end)
            if times is not None and _FREQUENCY_CAP_BEFORE.search(text, max(0, start - 10), start):
                times = None  # 最大给药频率，1次/d: a cap on an on-demand drug, not how often it is taken
            if times is not None:
                last_freq_end = end
                freqs.append((start, end, times, rule, sentence, section, sub, group))
                bracket = _BRACKET_QTY.match(text, end, end + 24)  # 每天吸入1次(2.5mg)
                if bracket and (bracket.group("u1") or bracket.group("u2")):
                    a = parse_number(bracket.group("a"))
                    b = parse_number(bracket.group("b")) if bracket.group("b") else a
                    if a is not None and b is not None:
                        regimens.append(Regimen(
                            index=len(regimens), start=start, end=end + bracket.end(), kind="dose",
                            amount=(min(a, b), max(a, b)), unit=normalise_unit(bracket.group("u1") or bracket.group("u2")),
                            times=times, population=population, band=band, form=form, route=route,
                            loading=loading_pending, section=section, sub=sub, sentence=sentence, clause_no=clause_no,
                        ))
        elif kind in _AMOUNT_PREFIX:
            prefix = _AMOUNT_PREFIX[kind]
            m = _AMOUNT_TOKEN[kind].match(text, start)
            read = _read_qty(m, prefix)
            if read is None:
                continue
            amount, unit = read
            if cap_pending:
                facts["total_amount_seen"] = True  # 总剂量为3mg: an amount, but not per day
            per_day_after = per_body = False
            if text.startswith(("/", "每"), end):  # 2mg/kg, 5mg/d, 10g/袋, 1ml/min, 20ml每公斤
                after = text[end:end + 8]
                per_day_after = bool(_PER_DAY_AFTER.match(after))
                per_body = bool(_PER_BODY.match(after))
                if not per_day_after and not per_body and _RATE_AFTER.match(after):
                    continue
                if kind in ("bare", "dose", "daily") and _SPEC_AFTER.match(after) and not after.startswith("/次"):
                    continue
            if unit == "kg":
                label = _BAND_LABEL_AFTER.match(text, end)
                if label and not text.startswith("/", start - 1):
                    # a weight band of a paediatric table (体重12～15kg，一次半袋；16～22kg，一次1袋): like an age band
                    if population == "adult" and _joins_previous(text, start, last_pop_end):
                        last_pop_end = end  # 成人及20kg以上者: adults
                    else:
                        sign = text[start - 1] if start and text[start - 1] in "≥>≤<" else ""
                        band = _age_band(sign + text[start:label.end()])
                        # 体重≥40kg的患者: an adult's weight, not a paediatric band
                        population = "adult" if band[0] >= _ADULT_WEIGHT_KG and band[1] >= _NO_UPPER_AGE else "band"
                        band = None if population == "adult" else band
                        last_pop_end = end
                continue
            token = m.group(0)
            if kind in ("daily", "dose") and ("增" in token or "加" in token or "减" in token) and _INCREMENT.search(token):
                continue  # 以后每天增加0.1g: a step up, not a dose
            per_week = kind == "bare" and text.startswith("每周", clause_start) and bool(_PER_WEEK_LEAD.fullmatch(text, clause_start, start))
            if per_week:  # 每周7.5mg，1次口服: a weekly total, a seventh of it a day
                amount = (amount[0] / 7, amount[1] / 7)
            if not per_body and _BODY_HINT.search(text, max(0, start - 8), start):
                per_body = bool(_PER_BODY_BEFORE.search(text[max(0, start - 8):start]))
            if not per_body and kind == "daily" and ("体" in token or "每" in token[1:]) and _PER_BODY_INSIDE.search(token):
                per_body = True  # 每日每公斤体重10mg
            reg_kind = "dose" if kind == "post" else kind
            each_day = kind == "bare" and text.endswith(("天各", "日各"), 0, start)  # 第2、3、4天各0.4g: a day's amount
            if kind == "bare" and (per_day_after or per_week or each_day):
                reg_kind = "daily"
            each = _EACH_TIME.search(token) if kind == "daily" and "各" in token else None
            if each:  # 每日早晚各服6g: a dose at each named time, not a daily total
                reg_kind = "dose"
            if kind == "bare" and not per_body:
                lead = text[max(clause_start, text.rfind(")", 0, start) + 1):start]
                if (not (_BARE_LEAD.match(lead) or _VERB_LEAD.search(lead)) and reg_kind != "daily"
                        and start - last_freq_end > 1 and start != last_phase_end  # …改为维持量40～80mg
                        and not _LATIN_AFTER.match(text, end)):  # po，0.4g bid
                    continue
                if reg_kind != "daily" and _DILUENT_LEAD.search(lead):
                    continue
            if kind == "dose":
                facts["has_dose_lead"] = True
            if unit in HOUSEHOLD_UNITS:  # 一次约半瓶盖至1瓶盖(3～6g): the bracketed weight is the dose
                bracket = _BRACKET_QTY.search(text, start, end + 24)
                if bracket and (bracket.group("u1") or bracket.group("u2")):
                    a = parse_number(bracket.group("a"))
                    b = parse_number(bracket.group("b")) if bracket.group("b") else a
                    u = normalise_unit(bracket.group("u1") or bracket.group("u2"))
                    if a is not None and b is not None and dimension(u) in ("mass", "volume"):
                        amount, unit = (min(a, b), max(a, b)), u
            if per_body:
                facts["per_body_any"] = True
            if kind == "dose" and _CAP_BEFORE.search(text, max(0, start - 8), start):
                cap_carried = True
                continue  # 最大剂量每次100mg: a cap, not a dose
            if kind == "daily" and (_LIMIT_WORD.search(token) or _RAISE_BEFORE.search(text, max(0, start - 4), start)):
                continue  # 每天总量不超过1200mg, 严重感染可增加至一日6g: a cap or a step, not a stated daily total
            if kind == "daily" and text[start - 2:start] == ",至" and not maint_pending \
                    and any(r.loading and r.section == section for r in regimens):
                maint_pending, maint_explicit = True, False  # 初始每次50mg，每周可递增…，至每天200～300mg: the target
            if cap_pending and reg_kind in ("daily", "bare"):
                cap_pending = False
                facts["total_amount_seen"] = True  # 总剂量为3mg: an amount, but not per day
                continue
            cap_pending = False
            tagged = _BRACKET_FORM.search(token) if "(" in token else None  # 一次2～3片(糖衣片): this dose's form only
            reg = Regimen(
                index=len(regimens), start=start, end=end, kind=reg_kind, amount=amount, unit=unit,
                times=(frequency_at(text, start + each.start()) or (None, None))[1] if each else None,
                per_body=per_body, population=population, band=band, form=FORMS[tagged.group(1)] if tagged else form, route=route,
                loading=loading_pending, section=section, sub=sub, sentence=sentence, clause_no=clause_no,
                clause_start=clause_start, explicit_total=kind == "daily" and "总" in token, group=group,
            )
            if maint_pending and regimens:
                marked = _mark_loading(regimens, sentence, section, group)
                if reg.kind == "bare" and any(r.kind == "daily" for r in marked):
                    reg.kind = "daily"  # 每天20～60mg；维持量20～40mg: the maintenance is daily too
                reg.maintenance, reg.explicit_maintenance = True, maint_explicit
                maint_pending = False
            loading_pending = False
            regimens.append(reg)
        elif kind == "age":
            if population == "adult" and _joins_previous(text, start, last_pop_end):
                last_pop_end = end  # 成人及12岁以上儿童: adults, and children old enough to take the adult dose
                continue
            band = _age_band(m.group(0))
            if band[0] >= _ELDERLY_FROM_AGE and band[1] >= _NO_UPPER_AGE:  # 65岁以上: the elderly, not a paediatric band
                population, band, last_pop_end = "elderly", None, end
            elif band[0] >= _ADULT_DOSE_FROM_AGE and band[1] >= _NO_UPPER_AGE:  # 12岁以上患者: adults and older children
                population, band, last_pop_end = "adult", None, end
            else:
                population, last_pop_end = "band", end
        elif kind == "adult":
            population, band, last_pop_end = "adult", None, end
        elif kind == "child":
            # 5~15岁儿童 keeps the band; 成人及儿童 (one dose for both) stays adult
            if start - last_pop_end > 1 or (population == "band" and start != last_pop_end) or population not in ("band", "adult"):
                population, band = "child", None
            last_pop_end = end
        elif kind == "elderly":
            population, band, last_pop_end = "elderly", None, end
        elif kind == "disc":
            if population in ("child", "elderly", "band") and start - last_pop_end <= 4:
                population, band = "adult", None
        elif kind == "loading":
            if regimens and start == regimens[-1].end and m.group(0).startswith("负荷"):
                regimens[-1].loading = True  # 单次70mg负荷剂量: the amount just read is the loading dose
                continue
            maint_pending = False  # 逐渐达到维持剂量，具体如下：第1周…: that 维持 only announced the phases
            # 开始每次5mg is a starting dose; 月经干净后开始用药 only says when to start
            loading_pending = (not m.group(0).startswith("开始") or bool(_STARTING_AMOUNT.match(text, end))) \
                and not _DOUBLED.match(text, end)  # 首次加倍，一次3粒: the dose after it is the regular one
            last_phase_end = end
        elif kind == "maint":
            last_phase_end = end
            if regimens and start == regimens[-1].end and m.group(0).startswith("维持"):
                # 每天40～100mg维持: the amount just read is the maintenance
                last = regimens.pop()
                _mark_loading(regimens, sentence, section, group)
                last.maintenance = last.explicit_maintenance = True
                regimens.append(last)
            else:
                maint_pending = True
                maint_explicit = m.group(0).startswith("维持")
            loading_pending = False
        elif kind == "cap":
            cap_pending = True
        elif kind == "form":
            form = FORMS[m.group(0)]
        elif kind == "route":
            if _DISEASE_AFTER.match(text, end):
                continue  # 外阴阴道念珠菌病, 直肠癌: a disease's name, not a route
            route = ROUTE_WORDS[m.group(0)]
            last = regimens[-1] if regimens else None
            if last is not None and last.route is None and last.sentence == sentence and last.section == section \
                    and last.group == group and last.sub == sub:
                last.route = route  # 成人一次2mg，一日1次，贴于胸部: the route named after the dose is its own
    if maint_pending and any(r.loading for r in regimens):
        maint_without_amount = True
    facts["maint_without_amount"] = maint_without_amount
    _resolve_once_n_times(regimens, freqs)
    facts["freqs"] = freqs
    _attach_frequencies(text, regimens, freqs)
    return regimens, facts


def _mark_loading(regimens: list[Regimen], sentence: int, section: int, group: int) -> list[Regimen]:
    """A maintenance word (以后, 维持量, 然后) makes the amounts before it in its stretch (between ; or 。)
    loading doses, else those of its sentence (or, when none is there, the last amount of its section)."""
    marked = [r for r in regimens if r.sentence == sentence and r.section == section]
    marked = [r for r in marked if r.group == group] or marked  # 关节炎，一日75～150mg；急性疼痛：首次50mg，以后…
    if not marked and regimens and regimens[-1].section == section:
        marked = [regimens[-1]]
    for prev in marked:
        prev.loading = True
    return marked


def _resolve_once_n_times(regimens: list[Regimen], freqs: list) -> None:
    """一次2~4次 followed by a real frequency is a per-dose slip (2~4 of the form's unit); else it is the frequency."""
    for f in list(freqs):
        if f[3] != "once_n_times":
            continue
        later = [g for g in freqs if g[0] > f[1] and g[4] == f[4] and g[5] == f[5] and g[3] != "once_n_times"]
        if later and not any(f[1] <= r.start < later[0][0] for r in regimens):
            freqs.remove(f)
            regimens.append(Regimen(index=0, start=f[0], end=f[1], kind="dose", amount=f[2], unit="次",
                                    section=f[5], sub=f[6], sentence=f[4], group=f[7]))
            regimens.sort(key=lambda r: r.start)
            for i, r in enumerate(regimens):
                r.index = i


_WEAK_OR_SPLIT: Final = ("split_into", "bedtime")
_SPARSER_THAN_DAILY: Final = ("every_other_day", "daily_or_every_other_day", "every_n_days", "once_per_n",
                              "every_n_weeks", "per_week", "weekly", "per_month")


def _shared_at_end(f: tuple, regimens: list[Regimen], freqs: list) -> bool:
    """糖衣片一次6～8片；素片一次4～5片，一日三次: the sentence's only frequency, in its last group, is shared."""
    groups = {g[7] for g in freqs if g[4] == f[4] and g[5] == f[5] and g[3] not in _WEAK_OR_SPLIT}
    last_group = max((r.group for r in regimens if r.sentence == f[4] and r.section == f[5]), default=f[7])
    return groups == {f[7]} and f[7] == last_group


def _frequency_first(reg: Regimen, ahead: tuple, regimens: list[Regimen], freqs: list) -> bool:
    """Whether the text pairs frequency-then-dose: a frequency ends right before `reg`'s clause, and
    the frequency `ahead` of it is followed at once by a dose of its own (so it is that dose's)."""
    leads = any(g[1] + 1 == reg.clause_start and g[4] == reg.sentence and g[5] == reg.section
                and g[3] not in _WEAK_OR_SPLIT for g in freqs)
    if not leads or any(reg.end <= r.start < ahead[0] for r in regimens):
        return False
    return any(r.sentence == reg.sentence and 0 <= r.start - ahead[1] <= 1 for r in regimens)


def _attach_frequencies(text: str, regimens: list[Regimen], freqs: list) -> None:
    """Give each amount its frequency: same clause before it, else forward in its sentence, else back."""
    amount_groups = {r.group for r in regimens}
    for i, reg in enumerate(regimens):
        # a daily total right after a per-dose amount (一次2袋，一日2～3袋) or 分N次 after a daily total
        if reg.kind == "dose" and i + 1 < len(regimens):
            nxt = regimens[i + 1]
            if nxt.kind == "daily" and nxt.sentence == reg.sentence and nxt.section == reg.section and (
                nxt.explicit_total or not any(reg.end <= f[0] < nxt.start for f in freqs)
            ):  # 每次2～4片，每隔1小时1次，每天总剂量为16～20片: the explicit total wins
                reg.daily_total = (nxt.amount, nxt.unit)
        chosen = None
        if reg.times is not None:
            continue
        for f in freqs:  # same clause, just before the amount: 每晚睡前服8片
            if reg.clause_start <= f[0] and f[1] <= reg.start and f[3] not in _WEAK_OR_SPLIT:
                chosen = f
        if chosen is not None and chosen[3] == "nightly":
            # 每晚1粒，隔日一次: 每晚 says the time of day, the sparser rule after it which days
            sparser = next((f for f in freqs if f[0] >= reg.end and f[4] == reg.sentence and f[5] == reg.section), None)
            if (sparser is not None and sparser[3] in _SPARSER_THAN_DAILY
                    and not any(reg.end <= r.start < sparser[0] for r in regimens)):
                chosen = sparser
        if chosen is None:
            for f in freqs:  # forward, within the same sentence and section
                if f[0] >= reg.end and f[4] == reg.sentence and f[5] == reg.section and f[6] == reg.sub:
                    if (f[3] == "split_into" and reg.kind != "daily") or f[3] == "bedtime":
                        continue
                    if f[7] != reg.group and f[7] in amount_groups and not _shared_at_end(f, regimens, freqs):
                        continue  # 蜜丸每次1丸，…；片剂每次4片，每天2～3次: 每天2～3次 is the 片剂's
                    if _frequency_first(reg, f, regimens, freqs):
                        break  # 每12小时一次，每次0.2g，或每24小时1次，每次0.4g: each frequency leads its own dose
                    chosen = f
                    break
                if f[0] >= reg.end and f[4] == reg.sentence + 1 and f[5] == reg.section and f[3] != "split_into":
                    sentence_start = text.rfind("。", 0, f[0]) + 1
                    if f[0] - sentence_start <= 1 and not any(reg.end <= r.start < f[0] for r in regimens if r.times is None and r is not reg and r.sentence != reg.sentence):
                        chosen = f  # 成人，每次15～20ml；…。每日3次。
                        break
                if f[0] >= reg.end and (f[5] != reg.section or f[6] != reg.sub):
                    break
        if chosen is None and reg.kind != "daily":
            for f in reversed(freqs):  # backward, same sentence: 每天3次，每次2片
                if f[1] <= reg.start and f[4] == reg.sentence and f[5] == reg.section and f[3] not in _WEAK_OR_SPLIT:
                    if not any(f[1] <= r.start < reg.start for r in regimens if r is not reg and r.kind != "bare"):
                        chosen = f
                    elif not any(r.sentence == reg.sentence and r.section == reg.section and r.start < f[0] for r in regimens):
                        chosen = f  # 口服，一日3次；一岁每服1粒，…成年每服10粒: it leads the whole table
                    break
        if chosen is None and reg.kind != "daily":  # 一次1丸，睡前服: bedtime alone means once a day
            chosen = next((f for f in freqs if f[3] == "bedtime" and f[4] == reg.sentence and f[5] == reg.section), None)
        if chosen is not None:
            if reg.kind == "daily":
                if chosen[3] == "split_into" or text[chosen[0]:chosen[0] + 1] == "分":
                    reg.split = chosen[2]
                elif (chosen[0] >= reg.end and chosen[0] - reg.end <= 1 and chosen[3] in ("per_day", "per_day_slash")
                      and (dimension(reg.unit) == "count" or not _DAY_WORD.match(text, reg.start))):
                    # 一日5-7片，一日3次: a slip for 一次 (一日0.16～0.4g，一日1～2次给药 is a total given in 1～2 doses)
                    reg.kind, reg.times = "dose", chosen[2]
                    reg.notes.append("daily amount followed by a frequency read as per dose")
            else:
                reg.times, reg.freq_at = chosen[2], chosen[0]
    # A frequency standing alone in its sentence (口服：每日4次。1.儿童…2.成人：每次18ml) serves the amounts after it.
    used_sentences = {r.sentence for r in regimens}
    orphans = [f for f in freqs if f[4] not in used_sentences and f[3] not in _WEAK_OR_SPLIT]
    for reg in regimens:
        if reg.times is None and reg.kind != "daily" and reg.daily_total is None:
            before = [f for f in orphans if f[1] <= reg.start]
            if not before:  # 大蜜丸：一次1～2丸。小蜜丸：一次9～18g。一天2～3次。: a shared frequency after the list
                after = [f for f in orphans if f[0] >= reg.end and f[5] == reg.section]
                if after and not any(reg.end <= r.start < after[0][0] and r.times is not None and r.freq_at != after[0][0]
                                     for r in regimens):
                    before = after[:1]
            if before:
                reg.times = before[-1][2]
                reg.notes.append("frequency from a sentence of its own")


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------
def _herb_first(text: str, reg: Regimen, regimens: list[Regimen], product: Form | None) -> bool:
    """A bare weight opening the text of a product with no form (3～9g，另煎兑服；…) is a 饮片 daily
    amount, unless a frequency follows it before any other dose."""
    if reg.kind != "bare" or reg.unit != "g" or reg.index != 0 or reg.clause_start != 0 or product is not None:
        return False
    if not _HERB_LEAD.match(text, 0, reg.start):
        return False
    return reg.times is None or any(r.kind == "dose" and reg.end <= r.start < (reg.freq_at or 0) for r in regimens)


def _confidence(base: float, why: list[str], reg: Regimen | None, pool_size: int, n_candidates: int) -> float:
    c = base
    if n_candidates > 1:
        c -= 0.05
    if pool_size > 1:
        c -= 0.1
    if reg is not None:
        if reg.kind == "bare":
            c -= 0.15
        if reg.notes:
            c -= 0.1
    c -= 0.05 * len(why)
    return round(max(0.05, min(1.0, c)), 3)


def extract_daily_dose(usage: str | None, *, name: str | None = None, spec: str | None = None,
                       package: str | None = None) -> DoseResult:
    """Daily dose of one product by the DAILY_DOSE.md rules; never raises.

    Parameters
    ----------
    usage
        用法用量 text, verbatim.
    name
        Product name (its dosage form picks the regimen).
    spec
        规格 (per-unit content for `daily_count`; also the form when the name has none).
    package
        包装 (pack counts; conversion data when the spec lacks it).

    Examples
    --------
    >>> r = extract_daily_dose("口服。一次2粒，一日3次。", spec="每粒装0.3g")
    >>> r.daily, r.unit, r.daily_count, r.count_unit
    ((6.0, 6.0), '粒', (6.0, 6.0), '粒')
    >>> r = extract_daily_dose("口服，一次6g，一日2～3次。", spec="水丸。每100粒重6g。")
    >>> r.daily, r.daily_count, r.count_unit
    ((12.0, 18.0), (200.0, 300.0), '粒')
    >>> extract_daily_dose("开水冲服。一次15克，一日2次。", spec="每袋装15g").daily_count
    (2.0, 2.0)
    >>> extract_daily_dose("口服，一次3～4片，一日3次。", spec="片剂。").daily
    (9.0, 12.0)
    >>> extract_daily_dose("口服。成人一次1袋，一天3次。儿童一次1袋，一天2次。", spec="每袋10g").daily
    (3.0, 3.0)
    >>> r = extract_daily_dose("口服：1岁以下每次5g，1～3岁每次10g，4～7岁每次15g，均每天3次。", spec="冲剂")
    >>> r.daily, r.unit, r.daily_count
    ((45.0, 45.0), 'g', None)
    >>> extract_daily_dose("口服，一次10～20g，一日2次。", spec="煎膏剂。").daily_count is None
    True
    >>> extract_daily_dose("口服。一次30～60ml。").reason
    'no_frequency'
    >>> extract_daily_dose("口服，一次lOml，一日3次。", spec="10ml/支").daily_count
    (3.0, 3.0)
    """
    key = (usage, name, spec, package)
    try:
        return _cached_extract(*key)
    except TypeError:  # unhashable input: not a text, read it uncached
        pass
    except Exception as exc:  # the contract: garbage in → not determinable, never a crash
        return not_determinable("no_amount", f"parser error: {type(exc).__name__}", confidence=0.0)
    try:
        return _extract(usage, name=name, spec=spec, package=package)
    except Exception as exc:
        return not_determinable("no_amount", f"parser error: {type(exc).__name__}", confidence=0.0)


@lru_cache(maxsize=32768)  # DoseResult is frozen; the same insert is listed in many regions
def _cached_extract(usage: Any, name: Any, spec: Any, package: Any) -> DoseResult:
    return _extract(usage, name=name, spec=spec, package=package)


def clear_caches() -> None:
    """Forget memoised results (for cold-path benchmarks).

    Examples
    --------
    >>> _ = extract_daily_dose("口服，一次2粒，一日3次。")
    >>> clear_caches(); _cached_extract.cache_info().currsize
    0
    """
    _cached_extract.cache_clear()
    parse_pack.cache_clear()
    product_form.cache_clear()


def _truncated(text: str) -> bool:
    """Whether the text stops mid-phrase: after 一次 / 一日 / 每, or on a comma."""
    stripped = text.rstrip("。.,;:、 ")
    return bool(_TRUNCATED_END.search(stripped)) or stripped != text.rstrip("。. ")


def _simple_result(text: str, simple: SimpleDose, name: str | None, spec: str | None,
                   package: str | None) -> DoseResult:
    """The result `_extract` gives for a text of the simple shape, without the general scan."""
    reg = Regimen(index=0, start=simple.start, end=simple.end, kind="dose", amount=simple.amount,
                  unit=simple.unit, times=simple.times, route=simple.route, form=simple.form)
    per_dose, times = simple.amount, simple.times
    product = product_form(name, spec)
    daily = (per_dose[0] * times[0], per_dose[1] * times[1])
    count, count_unit, count_why = count_daily(reg, daily, simple.unit, parse_pack(spec, package), product)
    return determinable_result(per_dose, times, (sig4(daily[0]), sig4(daily[1])), simple.unit, count, count_unit,
                         _confidence(0.95, [], reg, 1, 1), text[simple.start:simple.end], count_why)


def _extract(usage: str | None, *, name: str | None, spec: str | None, package: str | None,
             fast: bool = True) -> DoseResult:
    """The rules, uncached; `fast=False` skips the simple-text fast path (its tests compare both)."""
    text = normalise_text(usage if isinstance(usage, str) else None)
    if not text:
        return not_determinable("no_amount", "empty usage text", confidence=0.9)
    name = name if isinstance(name, str) else None
    spec = spec if isinstance(spec, str) else None
    package = package if isinstance(package, str) else None
    simple = read_simple(text) if fast else None
    if simple is not None:  # 口服，一次2粒，一日3次。: one regimen, nothing to select
        return _simple_result(text, simple, name, spec, package)
    regimens, facts = _scan(text)
    if not regimens:
        if facts["per_body_any"] or _PER_BODY_ANY.search(text):
            return not_determinable("weight_or_area_based", "dose per kg or m² only", 0.8)
        if _truncated(text):
            return not_determinable("truncated", "text cut off before the amount", 0.8)
        if facts.get("total_amount_seen"):
            return not_determinable("no_frequency", "only a total or capped amount, no daily regimen", 0.7)
        return not_determinable("no_amount", "no amount with a unit", 0.75)
    product = product_form(name, spec)
    product_route = product.route if product is not None else None
    pool, why = select_regimen(regimens, product, product_route, facts["maint_without_amount"])
    if not pool:
        if why and why[-1] == "maintenance dose has no amount":
            return not_determinable("no_amount", "; ".join(why), 0.7)
        return not_determinable("conflicting", "no regimen survives the selection rules", 0.4)
    reg = pool[0]
    if len(pool) > 1:
        why.append("first listed")
    clause = text[reg.start:reg.end]
    if reg.per_body:
        return not_determinable("weight_or_area_based", "; ".join(why + ["dose per kg or m²"]), 0.85, clause)
    per_dose: Range | None = None
    times: Range | None = None
    unit = reg.unit
    if reg.kind == "daily":
        daily = reg.amount
        times = reg.split
        why.append("stated daily total")
    elif _herb_first(text, reg, regimens, product):
        daily = reg.amount  # 3～9g；研粉吞服，一次1～3g: the 饮片 amount, the powder's dose is another regimen
        why.append("bare amount (饮片 convention: daily)")
    elif reg.daily_total is not None and reg.daily_total[1] == reg.unit and reg.daily_total[0][1] >= reg.amount[1]:
        per_dose, daily = reg.amount, reg.daily_total[0]
        why.append("stated daily total")
    elif reg.times is not None:
        per_dose, times = reg.amount, reg.times
        daily = (per_dose[0] * times[0], per_dose[1] * times[1])
    elif reg.daily_total is not None and reg.daily_total[1] == reg.unit and dimension(reg.unit) == "count":  # 一次3～5片，一日3片: a slip for 3次
        per_dose, times = reg.amount, reg.daily_total[0]
        daily = (per_dose[0] * times[0], per_dose[1] * times[1])
        why.append("daily total smaller than a dose: read as times")
    elif (reg.kind == "bare" and not facts["freqs"] and not facts["has_dose_lead"] and unit == "g"
          and _HERB_LEAD.match(text, reg.clause_start, reg.start)):
        daily = reg.amount
        why.append("bare amount (饮片 convention: daily)")
    else:
        if not facts["freqs"] and _truncated(text):
            return not_determinable("truncated", "; ".join(why + ["text cut off before the frequency"]), 0.75, clause)
        return not_determinable("no_frequency", "; ".join(why + ["selected regimen has no frequency"]), 0.75, clause)
    facts_pack = parse_pack(spec, package)
    if unit == "次":  # 一次2～3次: the form's unit, else the pack's (0.25g*48s with 每板12片)
        unit = product.unit if product and product.unit else next(
            (u for u in facts_pack.count_units if u in PIECE_UNITS), unit)
    count, count_unit, count_why = count_daily(reg, daily, unit, facts_pack, product)
    why.append(count_why)
    confidence = _confidence(0.95, [w for w in why if w in ("first listed", "oldest age band")], reg, len(pool), len(regimens))
    return determinable_result(per_dose, times, (sig4(daily[0]), sig4(daily[1])), unit, count, count_unit, confidence,
                         clause, "; ".join(why) or "single regimen")
