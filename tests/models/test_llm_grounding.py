"""Grounding and the code-side selection, on regimens as a model might return them."""
from __future__ import annotations

import pytest

from models.llm.grounding import frequencies, quantities, ungrounded
from models.llm.schema import Regimen, parse_answer
from models.llm.select import choose_regimen, regimens_result
from models.llm.errors import LLMBadAnswerError


def reg(per_dose=None, unit="粒", times=None, daily=None, population="", form="", loading=False) -> Regimen:
    return Regimen(population, form, per_dose, unit, times, daily, loading)


class TestGrounding:
    @pytest.mark.parametrize("usage, regimen", [
        ("口服。一次2粒，一日3次。", reg((2, 2), "粒", (3, 3))),
        ("开水冲服。一次15克，一日2次。", reg((15, 15), "g", (2, 2))),          # 克 grounds g
        ("口服，一次lOml，一日3次。", reg((10, 10), "ml", (3, 3))),            # lO read as 10
        ("口服，一次3～4片，一日3次。", reg((3, 4), "片", (3, 3))),
        ("一日6g，分2～3次服", reg(None, "g", (2, 3), (6, 6))),
        ("每8小时一次，每次1片", reg((1, 1), "片", (3, 3))),                   # derived frequency
        ("隔日一次，一次两粒", reg((2, 2), "粒", (0.5, 0.5))),
        ("口服，一次半袋，早晚各一次", reg((0.5, 0.5), "袋", (2, 2))),
        ("口服，每次5粒，3次/d", reg((5, 5), "粒", (3, 3))),
        ("大蜜丸一次1丸，一日2次", reg((1, 1), "粒", (2, 2))),                 # 丸 and 粒 count alike
    ])
    def test_stated_answers_are_grounded(self, usage, regimen):
        assert ungrounded((regimen,), usage) == []

    @pytest.mark.parametrize("usage, regimen, problem", [
        ("口服。一次2粒，一日3次。", reg((2, 3), "粒", (3, 3)), "per_dose 3 粒"),
        ("口服。一次2粒，一日3次。", reg((2, 2), "片", (3, 3)), 'unit "片"'),
        ("口服。一次2粒，一日3次。", reg((2, 2), "粒", (60, 80)), "times_per_day 60"),
        ("口服。一次2粒。", reg((2, 2), "粒", (1, 1)), "times_per_day 1"),      # 一次 is not a frequency
        ("口服。一次2粒，一日3次。", reg((3, 3), "粒", (2, 2)), "per_dose 3"),  # numbers swapped
        ("一次1～2mg/kg，一日2次", reg((1, 2), "mg", (2, 2)), "per body weight"),
        ("一次2粒，一日3次", reg(None, "粒", (3, 3), (6, 6)), "daily_total 6"),  # computed, not stated
        ("一次2粒，一日3次", reg((2, 2), "", (3, 3)), "without a unit"),
    ])
    def test_invented_or_misread_answers_are_not(self, usage, regimen, problem):
        problems = ungrounded((regimen,), usage)
        assert any(problem in p for p in problems), problems

    def test_every_regimen_must_be_grounded(self):
        good, bad = reg((2, 2), "粒", (3, 3)), reg((9, 9), "粒", (3, 3))
        assert ungrounded((good, bad), "口服。一次2粒，一日3次。") == ["per_dose 9 粒 is not in the text"]

    def test_quantities_and_frequencies(self):
        text = "成人一次2~3粒,一日3次;儿童1~2mg/kg,每8小时1次"
        assert [(q.span, q.unit, q.per_body) for q in quantities(text)] == [
            ((2, 3), "粒", False), ((1, 2), "mg", True)]
        assert frequencies(text) == {3.0}


class TestSelection:
    def test_loading_dose_ignored(self):
        loading = reg((4, 4), "片", (1, 1), loading=True)
        keep = reg((2, 2), "片", (1, 1))
        assert choose_regimen((loading, keep), usage="首次4片，以后一次2片，一日1次")[0] is keep

    def test_only_loading_doses_is_no_amount(self):
        result = regimens_result((reg((4, 4), "片", (1, 1), loading=True),), usage="首次4片，一日1次")
        assert not result.determinable and result.reason == "no_amount"

    def test_route_follows_the_product(self):
        oral = reg((2, 2), "g", (3, 3), form="口服")
        injection = reg((20, 40), "mg", (1, 1), form="肌内注射")
        usage = "1.口服:每次2g,每天3次。2.肌内注射:每次20~40mg,每日1次"
        assert choose_regimen((injection, oral), usage=usage, name="某某片")[0] is oral
        assert choose_regimen((oral, injection), usage=usage, name="注射用某某")[0] is injection

    def test_an_invented_label_selects_nothing(self):
        first = reg((1, 1), "袋", (3, 3), population="adults")   # not in the text: treated as unnamed
        second = reg((2, 2), "袋", (3, 3), population="儿童")
        assert choose_regimen((second, first), usage="儿童一次2袋，一日3次；一次1袋，一日3次")[0] is first

    @pytest.mark.parametrize("regimen, usage, spec, daily, count", [
        (reg((6, 6), "g", (2, 3)), "口服，一次6g，一日2～3次。", "水丸。每100粒重6g。", (12, 18), (200, 300)),
        (reg((15, 15), "克", (2, 2)), "开水冲服。一次15克，一日2次。", "每袋装15g", (30, 30), (2, 2)),
        (reg((10, 20), "g", (2, 2)), "口服，一次10～20g，一日2次。", "煎膏剂。", (20, 40), None),
        (reg((2, 2), "袋", (2, 2), (2, 3)), "一次2袋，一日2～3袋", None, (2, 3), (2, 3)),   # stated total, literal
        (reg((3, 5), "片", None, (3, 3)), "一次3～5片，一日3片", None, (9, 15), (9, 15)),  # total < one dose: a slip
    ])
    def test_arithmetic_and_conversion(self, regimen, usage, spec, daily, count):
        result = regimens_result((regimen,), usage=usage, spec=spec)
        assert result.determinable and result.daily == daily and result.daily_count == count

    @pytest.mark.parametrize("regimen, usage, reason", [
        (reg((30, 60), "ml"), "口服。一次30～60ml。", "no_frequency"),
        (reg((1, 2), "mg/kg", (2, 2)), "一次1～2mg/kg，一日2次", "weight_or_area_based"),
        (reg(None, "", (2, 3)), "涂患处，一日2～3次", "no_amount"),
    ])
    def test_not_determinable(self, regimen, usage, reason):
        result = regimens_result((regimen,), usage=usage)
        assert not result.determinable and result.reason == reason

    def test_herb_slices_take_a_bare_amount_as_daily(self):
        result = regimens_result((reg((3, 9), "g"),), usage="3～9g。", name="黄芪饮片")
        assert result.daily == (3, 9)


class TestAnswerReading:
    @pytest.mark.parametrize("answer, message", [
        ('{"regimens": "none"}', "list of objects"),
        ('{"regimens": [{"per_dose_min": 3, "per_dose_max": 2}]}', "above"),
        ('{"regimens": [{"loading_dose": "yes"}]}', "true or false"),
        ('{"regimens": [{"unit": "' + "克" * 20 + '"}]}', "at most"),
        ('{"regimens": [{"times_per_day_min": true}]}', "number or null"),
        ("{", "not JSON"),
    ])
    def test_malformed_answers_are_refused(self, answer, message):
        with pytest.raises(LLMBadAnswerError, match=message):
            parse_answer(answer)

    def test_a_bare_weight_with_no_dose_word_is_daily(self):
        assert regimens_result((reg((3, 9), "g"),), usage="3～9g。").daily == (3, 9)
