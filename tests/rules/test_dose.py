"""The daily-dose engine against DAILY_DOSE.md: worked examples, selection rules, clarifications."""
from __future__ import annotations

import pytest

from rules.dose import DoseResult, extract_daily_dose


def _daily(usage, **kw):
    r = extract_daily_dose(usage, **kw)
    return r.daily, r.unit, r.daily_count, r.count_unit


class TestWorkedExamples:
    """The table at the end of DAILY_DOSE.md, row by row."""

    @pytest.mark.parametrize("usage, spec, expected", [
        ("口服。一次2粒，一日3次。", "每粒装0.3g", ((6, 6), "粒", (6, 6), "粒")),
        ("口服，一次6g，一日2～3次。", "水丸。每100粒重6g。", ((12, 18), "g", (200, 300), "粒")),
        ("开水冲服。一次15克，一日2次。", "每袋装15g", ((30, 30), "g", (2, 2), "袋")),
        ("口服，一次3～4片，一日3次。", "片剂。", ((9, 12), "片", (9, 12), "片")),
        ("口服。成人一次1袋，一天3次。儿童一次1袋，一天2次。", "每袋10g", ((3, 3), "袋", (3, 3), "袋")),
        ("口服：1岁以下每次5g，1～3岁每次10g，4～7岁每次15g，均每天3次。", "冲剂", ((45, 45), "g", None, None)),
        ("口服，一次10～20g，一日2次。", "煎膏剂。", ((20, 40), "g", None, None)),
        ("口服，一次lOml，一日3次。", "10ml/支", ((30, 30), "ml", (3, 3), "支")),
    ])
    def test_row(self, usage, spec, expected):
        assert _daily(usage, spec=spec) == expected

    def test_no_frequency_row(self):
        r = extract_daily_dose("口服。一次30～60ml。")
        assert (r.determinable, r.reason) == (False, "no_frequency")


class TestFrequencies:
    @pytest.mark.parametrize("usage, times", [
        ("口服，一次2片，一日3次。", (3, 3)),
        ("口服，每次2片，每天2～3次。", (2, 3)),
        ("口服，每次5粒，3次/d。", (3, 3)),
        ("口服，一次2粒，早晚各一次。", (2, 2)),
        ("口服，每次2～3粒，早、晚各服1次。", (2, 2)),
        ("口服，一次1片，隔日一次。", (0.5, 0.5)),
        ("口服，一次1片，每8小时一次。", (3, 3)),
        ("口服，一次2片，每周2次。", (2 / 7, 2 / 7)),
        ("口服，一次4片，日服3次。", (3, 3)),
        ("口服，一次1片，每晚一次。", (1, 1)),
        ("口服，一次2粒，2或3次/d。", (2, 3)),
        ("口服，一次3片，一曰3次。", (3, 3)),
        ("口服，一次3片，一日三次。", (3, 3)),
        ("口服：每天3次，每次2片。", (3, 3)),
    ])
    def test_times_per_day(self, usage, times):
        r = extract_daily_dose(usage)
        assert r.times_per_day == pytest.approx(times, rel=1e-4)

    def test_cut_off_after_frequency_number_reads_as_times(self):
        assert extract_daily_dose("口服，一次2粒，一日2").daily == (4, 4)

    def test_cut_off_before_numbers_is_truncated(self):
        assert extract_daily_dose("口服，一次").reason == "truncated"
        assert extract_daily_dose("阴道给药，每次1粒，一日").reason == "truncated"


class TestAmounts:
    @pytest.mark.parametrize("usage, per_dose, unit", [
        ("口服，一次半袋，一日2次。", (0.5, 0.5), "袋"),
        ("口服，一次1/2片，一日2次。", (0.5, 0.5), "片"),
        ("口服，一次两袋，一日2次。", (2, 2), "袋"),
        ("口服，一次O.5g，一日2次。", (0.5, 0.5), "g"),
        ("口服，—次3片，一日2次。", (3, 3), "片"),
        ("口服，一次10毫升，一日2次。", (10, 10), "ml"),
        ("口服，一次250毫克，一日2次。", (250, 250), "mg"),
        ("口服，一次2至3粒，一日2次。", (2, 3), "粒"),
        ("口服，15mg/次，2次/d。", (15, 15), "mg"),
        ("口服，一次1袋（10g），一日2次。", (1, 1), "袋"),
    ])
    def test_per_dose(self, usage, per_dose, unit):
        r = extract_daily_dose(usage)
        assert (r.per_dose, r.unit) == (per_dose, unit)

    def test_stated_daily_total_wins(self):
        r = extract_daily_dose("口服，一日6g，分2～3次服。")
        assert (r.daily, r.unit, r.per_dose, r.times_per_day) == ((6, 6), "g", None, (2, 3))

    def test_stated_daily_total_read_literally(self):
        assert extract_daily_dose("口服，一次2袋，一日2～3袋。").daily == (2, 3)

    def test_daily_total_smaller_than_a_dose_is_a_slip_for_times(self):
        assert extract_daily_dose("口服，一次3～5片，一日3片。").daily == (9, 15)

    def test_daily_amount_followed_by_frequency_is_per_dose(self):
        assert extract_daily_dose("口服，一日5-7片，一日3次。").daily == (15, 21)

    def test_once_n_times_slip(self):
        r = extract_daily_dose("口服，一次2～4次，一日2次。", name="某某片")
        assert (r.daily, r.unit) == ((4, 8), "片")

    def test_herb_slice_bare_amount_is_daily(self):
        r = extract_daily_dose("3～9g。", name="棕榈子")
        assert (r.determinable, r.daily, r.unit) == (True, (3, 9), "g")

    def test_household_measure_uses_bracketed_weight(self):
        r = extract_daily_dose("口服，一次约半瓶盖至1瓶盖(3～6g)，2次/d。")
        assert (r.per_dose, r.unit, r.daily) == ((3, 6), "g", (6, 12))

    def test_household_measure_without_weight_stays(self):
        assert extract_daily_dose("口服：每次1匙，每天3次。").unit == "匙"

    def test_cap_is_not_a_daily_total(self):
        r = extract_daily_dose("口服，每次200mg，每天3次，每天总量不超过1200mg。")
        assert r.daily == (600, 600)

    def test_activity_units_kept_as_written(self):
        assert extract_daily_dose("肌内注射，每次80万U，每天2次。").unit == "万U"


class TestRegimenSelection:
    def test_form_from_name_picks_capsule_regimen(self):
        usage = "口服。大蜜丸一次1丸，浓缩丸一次8丸，胶囊剂一次4粒，一日2次。"
        r = extract_daily_dose(usage, name="六味地黄胶囊")
        assert (r.daily, r.unit) == ((8, 8), "粒")

    def test_form_from_spec_when_name_is_generic(self):
        r = extract_daily_dose("口服，水蜜丸一次6～12g，大蜜丸一次2丸；一日3次。", name="龟鹿滋肾丸", spec="大蜜丸每丸重9g。")
        assert (r.daily, r.unit) == ((6, 6), "丸")

    def test_first_listed_form_when_nothing_chooses(self):
        r = extract_daily_dose("口服。大蜜丸一次1丸，水蜜丸一次4克，一日2次。")
        assert (r.daily, r.unit) == ((2, 2), "丸")

    def test_oral_over_injection_for_oral_product(self):
        r = extract_daily_dose("1.静脉注射：每次10mg，每天1次。2.口服：每次20mg，每天3次。", name="某某片")
        assert r.daily == (60, 60)

    def test_injection_for_injection_product(self):
        r = extract_daily_dose("1.口服：每次20mg，每天3次。2.肌内注射：每次10mg，每天2次。", name="某某注射液")
        assert r.daily == (20, 20)

    def test_adults_over_children(self):
        r = extract_daily_dose("口服。儿童一次1片，一日2次；成人一次2片，一日3次。")
        assert r.daily == (6, 6)

    def test_oldest_band_for_paediatric_product(self):
        r = extract_daily_dose("口服，一至二岁小儿一次10丸，二至五岁一次20丸，一日2～3次。")
        assert r.daily == (40, 60)

    def test_first_indication(self):
        r = extract_daily_dose("餐前服：1.急性期：每次2片，4次/d。2.缓解期：每次1片，3次/d。")
        assert r.daily == (8, 8)

    @pytest.mark.parametrize("usage, daily", [
        ("口服，首次加倍，以后一次2粒，一日3次。", (6, 6)),
        ("肌内注射：成人每次4ml，以后每次2ml，每天2～3次。", (4, 6)),
        ("口服：开始每次10mg，每天2次，维持量每天5～10mg。", (5, 10)),
    ])
    def test_loading_dose_ignored(self, usage, daily):
        assert extract_daily_dose(usage).daily == daily

    def test_maintenance_without_amount_is_not_the_loading_dose(self):
        r = extract_daily_dose("口服：首剂2片，以后维持量酌减。")
        assert r.determinable is False

    @pytest.mark.parametrize("usage", [
        "口服，一次2片，一日3次，或遵医嘱。",
        "口服，一次2片，一日3次，小儿酌减。",
        "口服，一次2片，一日3次，饭后温开水送服，7天为一疗程。",
    ])
    def test_discretionary_clauses_change_nothing(self, usage):
        assert extract_daily_dose(usage).daily == (6, 6)

    def test_selected_regimen_without_frequency_is_not_determinable(self):
        r = extract_daily_dose("1.胸腔注射：每次400～600mg。2.静脉输注：每次400～700mg，每天1次。", name="某某注射液")
        assert r.reason == "no_frequency"


class TestNotDeterminable:
    @pytest.mark.parametrize("usage, reason", [
        ("涂患处，一日2～3次。", "no_amount"),
        ("口服，一次4粒，儿童酌减。", "no_frequency"),
        ("静脉滴注：每天1～2mg/kg，分2次。", "weight_or_area_based"),
        ("静脉滴注：每次250mg/m2，每周1次。", "weight_or_area_based"),
        ("口服，一次", "truncated"),
        ("", "no_amount"),
    ])
    def test_reason(self, usage, reason):
        r = extract_daily_dose(usage)
        assert (r.determinable, r.reason) == (False, reason)


class TestCountConversion:
    @pytest.mark.parametrize("usage, spec, package, count, unit", [
        ("口服。一次6克，一日2次。", "每丸重9g", None, (1.333, 1.333), "丸"),
        ("口服，一次3g，一日3次。", "浓缩丸。每15粒重2g。", None, (67.5, 67.5), "粒"),
        ("口服：每次5mg，1次/d。", "片剂：5mg/片。", None, (1, 1), "片"),
        ("口服：每次20～40mg，每日3次。", "乳剂：每支40mg(2ml)。", None, (1.5, 3), "支"),
        ("口服，一次11～15丸，一日1～2次。", "0.2g*90粒/盒", None, (11, 30), "粒"),
        ("口服，一次5片，一日3次。", "0.51g*40s", None, (15, 15), "片"),
        ("口服。一次5克，一日2次。", None, "5g*10袋", (2, 2), "袋"),
        ("口服：每次1～2瓶，每日3次。", "散剂：每瓶0.3g。", None, (3, 6), "瓶"),
        ("口服，一次20毫升，一日2次。", "20ml/瓶", None, (2, 2), "瓶"),
        ("口服，一次3片，一日4次。", None, None, (12, 12), "片"),
    ])
    def test_converts(self, usage, spec, package, count, unit):
        r = extract_daily_dose(usage, spec=spec, package=package)
        assert r.count_unit == unit
        assert r.daily_count == pytest.approx(count, rel=1e-3)

    @pytest.mark.parametrize("usage, spec", [
        ("口服，一次10～20ml，一日2次。", "每瓶装100ml"),        # multi-dose container
        ("口服，一次9克，一日3次。", "每瓶装60g"),               # sold by weight
        ("口服，一次6丸，一日2次。", "4g*10袋"),                # unit the spec does not count
        ("口服，每次6～9g，2次/d。", "散剂：每袋装12g或30g。"),    # several sizes
        ("口服：每次1～4mg，每天2次。", "片剂：0.5mg，1mg。"),      # several strengths
        ("口服。水蜜丸一次5克，一日2次。", "每丸重9g"),           # spec of another form
        ("口服，一次7.5ml，一日2次。", "酊剂。15ml/瓶。"),        # bottle holds two doses
    ])
    def test_no_count(self, usage, spec):
        r = extract_daily_dose(usage, spec=spec)
        assert r.determinable and r.daily_count is None and r.count_unit is None


class TestResultRecord:
    def test_to_dict_and_back(self):
        r = extract_daily_dose("口服，一次2～3粒，一日3次。", spec="每粒装0.3g")
        d = r.to_dict()
        assert d["per_dose"] == [2, 3] and d["daily"] == [6, 9] and d["method"] == "rules"
        assert DoseResult.from_dict(d) == r

    def test_explains_itself(self):
        r = extract_daily_dose("口服。成人一次1袋，一天3次。儿童一次1袋，一天2次。")
        assert r.clause and "adult" in r.why and 0 < r.confidence <= 1

    def test_garbage_is_not_determinable(self):
        for junk in (None, "@@@", "1234567", "一次一次一次", "每日" * 50):
            r = extract_daily_dose(junk)
            assert isinstance(r, DoseResult)


class TestPlausibility:
    def test_spec_piece_too_heavy_to_be_the_dose_pill(self):
        r = extract_daily_dose("口服。早服益肾强身丸20～30粒，晚服防衰益寿丸20～30粒。", spec="3g*30s/盒。")
        assert r.daily == (40, 60) and r.daily_count is None

    def test_light_pills_still_count(self):
        r = extract_daily_dose("口服，一次20粒，一日2次。", spec="0.05g*600s")
        assert (r.daily_count, r.count_unit) == ((40, 40), "粒")


class TestFrequencyOwnership:
    def test_shared_frequency_after_semicolon(self):
        r = extract_daily_dose("口服，水蜜丸一次6g、大蜜丸一次1丸，小蜜丸一次20粒；一日2次。")
        assert r.daily == (12, 12)

    def test_frequency_of_another_forms_group_is_not_borrowed(self):
        r = extract_daily_dose("口服：蜜丸剂每次1丸，用芦根汤或温开水送服；片剂每次4片，每天2～3次；胶囊每次4粒，每天2～3次。",
                               name="银翘解毒丸")
        assert r.reason == "no_frequency"

    def test_the_only_frequency_at_the_end_is_shared(self):
        r = extract_daily_dose("口服，糖衣片一次6～8片；素片一次4～5片，一日三次。")
        assert r.daily == (18, 24)

    def test_shared_frequency_sentence_after_the_list(self):
        r = extract_daily_dose("口服。大蜜丸：一次1～2丸。小蜜丸：一次9～18g。一天2～3次。", name="参苏丸", spec="大蜜丸：每丸重9g。")
        assert (r.daily, r.unit) == ((2, 6), "丸")

    def test_frequency_sentence_before_the_sections(self):
        r = extract_daily_dose("口服：每日4次。1.儿童，每次用量：1～2岁，每次4.5ml。2.成人：每次18ml。")
        assert r.daily == (72, 72)

    def test_explicit_daily_total_wins_over_hourly_frequency(self):
        r = extract_daily_dose("口服：每次2～4片，每隔1小时1次，每天总剂量为16～20片。")
        assert r.daily == (16, 20)


class TestStartingDoses:
    def test_starting_dose_is_not_used_when_no_maintenance_is_given(self):
        # DAILY_DOSE.md: "the starting dose is not used instead" (five independent labels agree)
        r = extract_daily_dose("1.治疗水肿：口服，开始每次5～10mg，每天1次，需要时每天可用20mg或更大剂量。")
        assert (r.determinable, r.reason) == (False, "no_amount")

    def test_a_reduction_after_a_starting_dose_is_the_maintenance(self):
        r = extract_daily_dose("口服，开始5～10mg/d，急性症状控制后，可减量至2～4mg/d。")
        assert r.daily == (2, 4)

    def test_a_reduction_without_a_starting_dose_is_a_later_phase(self):
        r = extract_daily_dose("口服，一次3粒，一日3次；3-5日后酌情减至一次2粒，一日3次。")
        assert r.daily == (9, 9)

    def test_a_starting_dose_per_kg_stays_weight_based(self):
        assert extract_daily_dose("静脉注射，起始剂量为90μg/kg，每2～3小时1次。").reason == "weight_or_area_based"

    def test_postfix_maintenance(self):
        r = extract_daily_dose("起始剂量为每天120～160mg，分早、晚饭后服用，连续2～3周，然后每天40～100mg维持。")
        assert r.daily == (40, 100)


class TestCountUnitsOfOtherForms:
    def test_sachets_of_the_granule_line_do_not_block_a_pill_count(self):
        r = extract_daily_dose("口服：大蜜丸每次1丸，每天3次；冲剂每次10g，每天2次。", name="藿香正气丸",
                               spec="丸剂：大蜜丸9g；冲剂：10g。")
        assert (r.daily_count, r.count_unit) == ((3, 3), "丸")


class TestBedtime:
    @pytest.mark.parametrize("usage, daily", [
        ("口服，一次1丸，睡前服。", (1, 1)),
        ("吸入：成人每天2次，每次200μg，于晚上睡前和早晨各吸1次。", (400, 400)),
        ("口服，一次9～13粒，1次/d，临睡前服。", (9, 13)),
    ])
    def test_bedtime_is_once_a_day_only_when_nothing_else_is_said(self, usage, daily):
        assert extract_daily_dose(usage).daily == daily


class TestPhases:
    def test_maintenance_right_after_its_marker_words(self):
        r = extract_daily_dose("深部肌内注射1次80～160mg，每4周1次，连续2～3个月后改为维持量40～80mg，每4周1次。")
        assert r.daily == pytest.approx((40 / 28, 80 / 28), rel=1e-3)

    def test_months_of_treatment_are_not_an_age_band(self):
        r = extract_daily_dose("口服，每次2片，每天3次，连续2～3个月为一疗程。")
        assert r.daily == (6, 6) and "band" not in r.why

    def test_months_as_an_age(self):
        r = extract_daily_dose("口服，六个月以内小儿一次0.125g；七至十二个月一次0.25g；一岁至二岁一次0.375g，一日3次。")
        assert r.daily == (1.125, 1.125)
