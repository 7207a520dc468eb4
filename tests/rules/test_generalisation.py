"""General rules for the miss patterns of docs/GENERALISATION.md, each on a text written for the test."""
from __future__ import annotations

import pytest

from rules.dose import extract_daily_dose
from rules.frequency import parse_frequency
from rules.numerals import normalise_text
from rules.spec import parse_pack


class TestDailyOrEveryOtherDay:
    @pytest.mark.parametrize("phrase", ["1日或间日1次", "每日或隔日一次", "一日或隔日1次", "连日或隔日给药"])
    def test_alternatives_are_a_range(self, phrase):
        assert parse_frequency(phrase) == (0.5, 1.0)

    def test_jianri_is_every_other_day(self):
        assert parse_frequency("间日一次") == (0.5, 0.5)
        assert parse_frequency("用药期间日服3次") == (3.0, 3.0)  # 期间 is not 间日

    def test_injection_every_day_or_every_other_day(self):
        r = extract_daily_dose("肌内注射：每次40mg，1日或间日1次，10次为一疗程。", spec="注射剂：每支40mg。")
        assert (r.times_per_day, r.daily, r.daily_count, r.count_unit) == ((0.5, 1.0), (20.0, 40.0), (0.5, 1.0), "支")

    @pytest.mark.parametrize("tail, times", [("隔日一次", (0.5, 0.5)), ("每日或隔日一次", (0.5, 1.0))])
    def test_nightly_amount_then_sparser_days(self, tail, times):
        r = extract_daily_dose(f"睡前塞入肛门。每晚1枚，{tail}，5次为一疗程。")
        assert r.times_per_day == times

    def test_nightly_with_daily_frequency_stays_once(self):
        assert extract_daily_dose("每晚2片，连服7天。").times_per_day == (1.0, 1.0)


class TestSpecStrengthWithWords:
    def test_per_tablet_contains(self):
        r = extract_daily_dose("口服，每次250mg，每日2次。", spec="片剂：每片含本品250mg。")
        assert (r.daily_count, r.count_unit) == ((2.0, 2.0), "片")

    def test_named_ingredient(self):
        assert parse_pack("每粒含盐酸某某胺0.2g。").contents[0].base_per_unit == 0.2

    def test_composition_is_not_a_strength(self):
        assert parse_pack("片剂：每片含维生素A2000U、维生素D3 200U、碳酸钙0.3g。").contents == ()
        # the spec counts 片 and the dose 粒: not the same unit (DAILY_DOSE.md), so no count
        r = extract_daily_dose("口服，每次2粒，每日3次。", spec="每片含甲药10mg、乙药5mg。")
        assert (r.daily, r.daily_count, r.count_unit) == ((6.0, 6.0), None, None)
        r = extract_daily_dose("口服，每次2片，每日3次。", spec="每片含甲药10mg、乙药5mg。")
        assert (r.daily_count, r.count_unit) == ((6.0, 6.0), "片")


class TestMultiplierOnBothEnds:
    @pytest.mark.parametrize("raw, expected", [
        ("一次3万～6万U", "一次3~6万U"), ("1.5万-2万单位", "1.5~2万单位"), ("3万~6万U", "3~6万U"),
    ])
    def test_normalised(self, raw, expected):
        assert normalise_text(raw) == expected

    def test_range_in_wan_units(self):
        r = extract_daily_dose("肌内注射，一次40万～80万U，一日2次。")
        assert (r.per_dose, r.daily, r.unit) == ((40.0, 80.0), (80.0, 160.0), "万U")


class TestHtmlEntities:
    @pytest.mark.parametrize("raw, expected", [
        ("一次3&mdash;4粒", "一次3~4粒"), ("一次3&ndash;4粒", "一次3~4粒"),
        ("口服,&nbsp;一次2片", "口服,一次2片"), ("一次1&#12316;2袋", "一次1~2袋"), ("A&amp;B", "A&B"),
    ])
    def test_decoded_before_parsing(self, raw, expected):
        assert normalise_text(raw) == expected

    def test_range_with_entity(self):
        assert extract_daily_dose("口服，一次3&mdash;4粒，一日2次。").daily == (6.0, 8.0)


class TestReasons:
    @pytest.mark.parametrize("usage", ["静脉注射，推荐剂量为0.5mCi/kg，缓慢推注。", "每公斤体重给予37MBq，一次注射。"])
    def test_per_kg_in_any_unit(self, usage):
        r = extract_daily_dose(usage)
        assert (r.determinable, r.reason) == (False, "weight_or_area_based")

    @pytest.mark.parametrize("usage", ["口服，小蜜丸一次9g，大蜜丸一次2", "口服，每次3"])
    def test_cut_after_the_amount_number(self, usage):
        r = extract_daily_dose(usage, spec="大蜜丸每丸重9g")
        assert (r.determinable, r.reason) == (False, "truncated")

    def test_missing_digits_are_not_a_cut(self):
        assert extract_daily_dose("口服，一次2～粒，一日3～次。").reason == "no_amount"


class TestElderlyAndCaps:
    def test_elderly_band_does_not_beat_the_adult_regimen(self):
        r = extract_daily_dose("口服，一次2片，一日3次；70岁以上患者一次1片，一日2次。")
        assert r.daily == (6.0, 6.0)

    def test_elderly_band_is_not_the_oldest_paediatric_band(self):
        r = extract_daily_dose("成年患者推荐剂量20mg，按需服用。65岁以上患者起始剂量为10mg，一日1次。")
        assert (r.determinable, r.reason) == (False, "no_frequency")

    def test_frequency_cap_is_not_a_frequency(self):
        r = extract_daily_dose("成年男性推荐剂量40mg，需要时服用；最大给药频率，1次/d。")
        assert (r.determinable, r.reason) == (False, "no_frequency")
        assert extract_daily_dose("一次1片，最多每日3次。").reason == "no_frequency"

    def test_plain_frequency_still_counts(self):
        assert extract_daily_dose("成年男性推荐剂量40mg，一日1次。").daily == (40.0, 40.0)


class TestSizesByPopulation:
    SPEC = "胶囊(成人)：8mg。胶囊(儿童)：4mg。"

    def test_adult_regimen_takes_the_adult_size(self):
        r = extract_daily_dose("成人：一次8mg，一日1次。儿童：一次4mg，一日1次。", spec=self.SPEC)
        assert (r.daily_count, r.count_unit) == ((1.0, 1.0), "粒")

    def test_band_regimen_takes_the_child_size(self):
        r = extract_daily_dose("6～12岁儿童：一次4mg，一日2次。", spec=self.SPEC)
        assert (r.daily_count, r.count_unit) == ((2.0, 2.0), "粒")

    def test_untagged_sizes_stay_ambiguous(self):
        r = extract_daily_dose("一次8mg，一日1次。", spec="胶囊：4mg，8mg。")
        assert r.daily_count is None


class TestOrRange:
    def test_or_between_bare_numbers_is_a_range(self):
        r = extract_daily_dose("滴眼：每天3次，每次2或3滴。")
        assert (r.per_dose, r.daily, r.unit) == ((2.0, 3.0), (6.0, 9.0), "滴")


class TestMultiDoseUnits:
    """Drops and puffs count only where the spec counts them, or where there is no spec at all."""

    def test_drops_with_a_bottle_spec_have_no_count(self):
        r = extract_daily_dose("滴鼻，一次2～3滴，一日3次。", spec="滴剂：每瓶10ml。")
        assert (r.daily, r.unit, r.daily_count) == ((6.0, 9.0), "滴", None)

    def test_puffs_without_spec_or_package_count_themselves(self):
        r = extract_daily_dose("喷鼻，一次1～2喷，一日3次。")
        assert (r.daily_count, r.count_unit) == ((3.0, 6.0), "喷")

    def test_generic_piece_word_of_a_suppository_counts(self):
        r = extract_daily_dose("塞肛，一次1枚，一日2次。", spec="栓剂。")
        assert (r.daily_count, r.count_unit) == ((2.0, 2.0), "枚")


class TestSpecLinesOfAnotherRoute:
    def test_oral_dose_ignores_the_suppository_strength(self):
        r = extract_daily_dose("口服：每次0.15～0.3g，每天2次。直肠给药：每次0.5g，每天1次。",
                               spec="片剂：0.15g。栓剂：0.5g。")
        assert (r.daily_count, r.count_unit) == ((2.0, 4.0), "片")

    def test_oral_dose_ignores_the_cream(self):
        r = extract_daily_dose("口服，每次0.25mg，每天2次。", spec="1.片剂：0.25mg；2.乳膏剂：1mg(4g)。")
        assert (r.daily_count, r.count_unit) == ((2.0, 2.0), "片")


class TestTwoTimesOfDay:
    @pytest.mark.parametrize("usage", [
        "口服，一次20ml，早晨及睡前各服一次。",
        "口服，一次20ml，睡前和晨起各服1次。",
        "每天睡前和晨起排便后分别用药20ml。",
    ])
    def test_each_named_time_is_one_dose(self, usage):
        r = extract_daily_dose(usage)
        assert (r.times_per_day, r.daily) == ((2.0, 2.0), (40.0, 40.0))


class TestPopulationWords:
    def test_band_before_child_word_is_kept(self):
        r = extract_daily_dose("口服，1～4岁儿童一次1g，5～14岁儿童一次2g，一日3次。")
        assert r.daily == (6.0, 6.0)  # the oldest band

    def test_adults_and_older_children_share_the_adult_dose(self):
        r = extract_daily_dose("①成人及12岁以上少年儿童，每天3次，每次30mg；②5～12岁儿童：每天3次，每次15mg。")
        assert r.daily == (90.0, 90.0)

    def test_circled_numbers_do_not_merge_with_the_age(self):
        from rules.numerals import normalise_text
        assert normalise_text("②5～10岁儿童") == "(2)5~10岁儿童"


def test_an_alternative_in_another_unit_is_not_a_range():
    r = extract_daily_dose("口服：每次2片或1丸，每天2～3次。", name="某某片")
    assert (r.per_dose, r.unit) == ((2.0, 2.0), "片")


def test_frequency_then_dose_pairs_keep_their_own_frequency():
    r = extract_daily_dose("口服：每12小时一次，每次0.2～0.3g，或每24小时1次，每次0.4g。")
    assert (r.times_per_day, r.daily) == ((2.0, 2.0), (0.4, 0.6))


def test_daily_or_every_other_day_with_counts_is_a_range():
    assert extract_daily_dose("肌内注射：每次2～10mg，每天1次或隔日1次。").times_per_day == (0.5, 1.0)


class TestOneStrengthTwoUnits:
    def test_tablet_and_capsule_of_one_strength_give_no_count_unit(self):
        r = extract_daily_dose("口服：每次200mg，每天3次。", spec="1.片剂：100mg；2.胶囊：100mg。")
        assert (r.daily, r.daily_count) == ((600.0, 600.0), None)

    def test_the_product_form_chooses(self):
        r = extract_daily_dose("口服：每次200mg，每天3次。", name="某某胶囊", spec="1.片剂：100mg；2.胶囊：100mg。")
        assert (r.daily_count, r.count_unit) == ((6.0, 6.0), "粒")


class TestRoundTwoPatterns:
    """Patterns found by the second round of independent labels (docs/GENERALISATION.md)."""

    def test_every_three_to_four_weeks(self):
        assert extract_daily_dose("静滴：每次4mg，3～4周1次。").times_per_day == pytest.approx((1 / 28, 1 / 21), rel=1e-4)

    def test_decoction_bare_amount_is_the_daily_amount(self):
        assert extract_daily_dose("汤剂3～9g，散剂外用。").daily == (3.0, 9.0)

    def test_a_diluent_volume_is_no_dose(self):
        r = extract_daily_dose("每天20～40mg，溶于生理盐水250～500ml中静脉滴注，或溶于注射用水40ml中静脉缓推。")
        assert (r.daily, r.unit) == ((20.0, 40.0), "mg")

    def test_an_amount_of_the_named_lotion_is_a_dose(self):
        assert extract_daily_dose("外用。取某某洗液50ml加温开水稀释到100ml，冲洗，一日1次。").daily == (50.0, 50.0)

    def test_puffs_are_no_count_unit_even_when_the_canister_counts_them(self):
        r = extract_daily_dose("气雾吸入：每次2揿，每天2～4次。", spec="气雾剂：200揿，每揿20μg。")
        assert (r.daily, r.daily_count) == ((4.0, 8.0), None)
        r = extract_daily_dose("吸入：每天2次，每次200μg。", spec="1.气雾剂：每揿100μg；2.栓剂：2mg。")
        assert r.daily_count is None

    def test_strengths_with_volumes_are_several_sizes(self):
        r = extract_daily_dose("静脉滴注，1次/d，每次500～1000mg。", spec="针剂：500mg/10ml，50mg/5ml。")
        assert r.daily_count is None


class TestCountUnitNames:
    def test_a_pill_strength_line_names_its_piece_wan(self):
        r = extract_daily_dose("口服：成人每次10～15丸，每天2次。", spec="水丸剂：2.6mg。")
        assert (r.daily_count, r.count_unit) == ((20.0, 30.0), "丸")

    def test_a_composition_still_names_the_unit_it_counts(self):
        r = extract_daily_dose("口服：每次1粒，每日2～3次。直肠给药：每次1枚，每日2次。",
                               spec="1.缓释丸剂：每粒含甲112.5mg、乙75mg。2.栓剂：每枚含甲188mg、乙125mg。3.注射液：2ml。")
        assert (r.daily_count, r.count_unit) == ((2.0, 3.0), "粒")

    def test_a_named_unit_comes_before_what_s_stands_for(self):
        r = extract_daily_dose("口服，一次1丸，一日1～2次。", spec="6g*10s", package="6g*10粒/盒。")
        assert r.count_unit == "粒"


class TestWrittenTexts:
    """Patterns from texts written and labeled by independent readers (docs/GENERALISATION.md)."""

    def test_coatings_are_told_apart_by_the_spec(self):
        r = extract_daily_dose("口服。糖衣片一次6片；薄膜衣片一次3片。一日3次。", name="某某片", spec="薄膜衣片，每片重0.32g")
        assert r.daily == (9.0, 9.0)

    def test_a_bracketed_coating_tags_its_own_dose(self):
        r = extract_daily_dose("口服。一次2～3片（糖衣片）或一次1～2片（薄膜衣片），一日2次。", name="某某片", spec="薄膜衣片 每片重0.31g")
        assert r.daily == (2.0, 4.0)

    def test_patch_changed_every_24_hours(self):
        assert extract_daily_dose("外用。贴于脐部，一次1贴，24小时换药一次。").daily == (1.0, 1.0)

    def test_herb_slice_pack_sold_by_weight_has_no_count(self):
        r = extract_daily_dose("9～30g。", package="500g/袋")
        assert (r.daily, r.daily_count) == ((9.0, 30.0), None)

    def test_herb_slice_amount_first_then_a_powder_dose(self):
        assert extract_daily_dose("3～9g，另煎兑服；也可研粉吞服，一次2g，一日2次。", name="人参").daily == (3.0, 9.0)
        assert extract_daily_dose("3～9g；研粉吞服，一次1～3g。外用适量。", name="三七").daily == (3.0, 9.0)

    def test_times_slip_takes_the_packs_unit(self):
        r = extract_daily_dose("口服，一次2～3次，一日3次。", spec="0.25g*48s", package="铝塑包装，每板12片，每盒4板。")
        assert (r.daily, r.unit) == ((6.0, 9.0), "片")

    def test_a_step_up_is_no_dose(self):
        r = extract_daily_dose("口服：开始每次0.1g，每天2次；以后每天增加0.1g，直到疼痛缓解，维持量每天0.4～0.8g，分次服用。")
        assert r.daily == (0.4, 0.8)

    def test_a_weekly_total_is_a_seventh_a_day(self):
        r = extract_daily_dose("口服：1.类风湿关节炎：每周7.5mg，1次口服。", spec="片剂：2.5mg。")
        assert r.daily == pytest.approx((1.071, 1.071), rel=1e-3)

    def test_first_day_then_days_two_to_five(self):
        r = extract_daily_dose("口服：第1天0.5g顿服，第2～5天每天0.25g顿服。", spec="片剂：0.25g。")
        assert (r.daily, r.daily_count) == ((0.25, 0.25), (1.0, 1.0))

    def test_half_after_a_chinese_numeral(self):
        assert extract_daily_dose("开水冲服。一至三岁一次半袋，八至十四岁一次一袋半，一日2次。").daily == (3.0, 3.0)

    def test_or_between_two_products_doses_takes_the_first(self):
        assert extract_daily_dose("开水冲服。4～7岁一次10g（含糖型）或5g（无糖型），一日2次。").daily == (20.0, 20.0)
        assert extract_daily_dose("开水冲服。8～12岁一次20g或8g，一日2次。").daily == (40.0, 40.0)

    def test_weight_bands_take_the_heaviest(self):
        r = extract_daily_dose("口服：体重12～15kg，一次半袋；16～22kg，一次1袋；31～40kg，一次2袋；一日2次。")
        assert r.daily == (4.0, 4.0)

    def test_adults_and_a_weight_band(self):
        assert extract_daily_dose("口服：成人及20kg以上者，每次500mg，每日3次。").daily == (1500.0, 1500.0)

    def test_month_bands_before_a_bracket(self):
        r = extract_daily_dose("口服。1～3个月（体重4～5kg）一次0.4ml；12～23个月（体重8～12kg）一次1.2ml；一日3次。")
        assert r.daily == pytest.approx((3.6, 3.6))

    def test_volume_then_strength_spec(self):
        r = extract_daily_dose("口服。成人一次30mg，一日3次。", spec="10ml:30mg", package="10ml*6支/盒")
        assert (r.daily_count, r.count_unit) == ((3.0, 3.0), "支")


class TestWrittenTextsRoundTwo:
    """External, injection, liquid and paediatric texts written by independent readers."""

    def test_patch_changed_every_three_days(self):
        r = extract_daily_dose("贴于耳后，一次1贴，每3日更换1次。", spec="1.5mg*2贴")
        assert r.times_per_day == pytest.approx((1 / 3, 1 / 3), rel=1e-4)

    def test_route_named_after_the_dose_is_its_own(self):
        r = extract_daily_dose("成人一次2mg，一日1次，贴于胸部。儿童：3～9岁一次1mg。", name="某某贴剂", spec="2mg*7贴")
        assert (r.daily, r.daily_count) == ((2.0, 2.0), (1.0, 1.0))

    def test_suppository_placed_in_the_vagina(self):
        r = extract_daily_dose("口服：一次0.2g，一日3次。阴道给药：栓剂每晚睡前放入阴道后穹窿处1枚（0.5g）。", name="某某栓")
        assert (r.daily, r.unit) == ((1.0, 1.0), "枚")

    def test_ear_drops_take_the_ear_regimen(self):
        r = extract_daily_dose("滴眼：一次1～2滴，一日3～5次。滴耳：一次2～3滴，一日3次。", name="某某滴耳液")
        assert r.daily == (6.0, 9.0)

    def test_a_frequency_leading_an_age_table(self):
        r = extract_daily_dose("口服，一日3次；一岁每服1粒，二岁每服2粒，成年每服10粒。")
        assert r.daily == (30.0, 30.0)

    def test_a_gel_tube_is_no_count_unit(self):
        r = extract_daily_dose("外用。一次取本品2～3g涂于患处，一日2～3次。", name="某某凝胶", spec="2.5%*30g", package="30g/支")
        assert r.daily_count is None

    def test_vials_of_a_split_daily_total_count(self):
        r = extract_daily_dose("肌内注射：成人一日4～6g，分4次给药。", spec="0.5g*10瓶")
        assert (r.daily_count, r.count_unit) == ((8.0, 12.0), "瓶")

    def test_composition_in_brackets_does_not_hide_the_vial(self):
        r = extract_daily_dose("静脉滴注。成人每8小时给予4.5g。", spec="4.5g(哌拉西林4.0g,他唑巴坦0.5g)/瓶")
        assert (r.daily_count, r.count_unit) == ((3.0, 3.0), "瓶")

    def test_volume_strength_times_count(self):
        r = extract_daily_dose("成人一日1次，1～2ml缓慢静注。", spec="2ml:10μg*1支")
        assert (r.daily_count, r.count_unit) == ((0.5, 1.0), "支")

    def test_a_raise_is_no_stated_total(self):
        r = extract_daily_dose("成人一次0.5～1g，一日2～4次，严重感染可增加至一日6g。")
        assert r.daily == (1.0, 4.0)

    def test_a_daily_weight_then_times_is_a_split_total(self):
        assert extract_daily_dose("静脉滴注：一日0.16～0.4g，一日1～2次给药。").daily == (0.16, 0.4)

    def test_herb_slice_equivalents_name_no_tablet(self):
        r = extract_daily_dose("口服。大蜜丸一次1丸，浓缩丸一次8丸，一日2次。", spec="浓缩丸每8丸相当于饮片3g")
        assert r.daily == (16.0, 16.0)

    def test_tablet_core_weight_converts(self):
        r = extract_daily_dose("口服，一次1.2g（4片），一日2次。", spec="片芯重0.3g", package="药用塑料瓶，每瓶装80片。")
        assert (r.daily_count, r.count_unit) == ((8.0, 8.0), "片")

    def test_each_of_morning_and_evening_inside_a_daily_phrase(self):
        r = extract_daily_dose("口服，每日早晚各服6g，淡盐汤送下。", spec="每10粒重1g")
        assert (r.daily, r.daily_count) == ((12.0, 12.0), (120.0, 120.0))

    def test_latin_frequencies_after_an_amount(self):
        assert extract_daily_dose("po，0.4g bid，空腹服用。").daily == (0.8, 0.8)
        assert extract_daily_dose("口服，0.5g bid～tid，餐中服用。").daily == (1.0, 1.5)

    def test_usual_dose_at_bedtime(self):
        assert extract_daily_dose("口服。成人常用剂量10mg，临睡前服用，一日剂量不得超过10mg。").daily == (10.0, 10.0)

    def test_per_kg_inside_a_daily_phrase(self):
        assert extract_daily_dose("口服。小儿每日每公斤体重10mg，分4次服用。").reason == "weight_or_area_based"

    def test_a_loading_word_marks_only_its_own_stretch(self):
        r = extract_daily_dose("口服。关节炎，一日75～150mg，分3次服；急性疼痛：首次50mg，以后25～50mg，每6～8小时1次。")
        assert r.daily == (75.0, 150.0)

    def test_first_dose_doubled_before_the_regimen(self):
        assert extract_daily_dose("口服，首次加倍，一次3粒，一日3次。").daily == (9.0, 9.0)

    def test_enzyme_activity_units(self):
        r = extract_daily_dose("静脉滴注：成人首次剂量通常为10BU，维持量一般为5BU，隔日1次。")
        assert (r.daily, r.unit) == ((2.5, 2.5), "BU")

    def test_a_gram_pill_naming_no_kind_is_a_big_honey_pill(self):
        r = extract_daily_dose("口服。水蜜丸一次4克，大蜜丸一次1丸，一日2～3次。", spec="每丸重9g")
        assert (r.daily, r.unit) == ((2.0, 3.0), "丸")

    def test_cut_off_after_a_range_mark(self):
        assert extract_daily_dose("口服，一次6-8片，一日2-").daily == (12.0, 16.0)

    def test_pill_weight_in_brackets_of_a_bottle(self):
        r = extract_daily_dose("口服。一次3g，一日3次。", spec="每瓶装36g（每20丸重1g）")
        assert (r.daily_count, r.count_unit) == ((180.0, 180.0), "丸")

    def test_a_sachet_of_pills_counts_sachets(self):
        r = extract_daily_dose("一次5克，一天2次。", spec="每袋装5g(每10丸重1g)")
        assert (r.daily_count, r.count_unit) == ((2.0, 2.0), "袋")

    def test_kinds_of_tablet_are_told_apart(self):
        r = extract_daily_dose("预防心绞痛：口服片剂，每次5～10mg，每天2～3次；缓释片，每次20mg，每天2次。",
                               name="硝酸异山梨酯缓释片", spec="1.片剂：5mg，10mg；2.缓释片：20mg。")
        assert (r.daily, r.daily_count) == ((40.0, 40.0), (2.0, 2.0))

    def test_a_spec_listing_two_kinds_picks_neither(self):
        from rules.forms import product_form
        assert product_form(None, "1.片剂：80mg；2.缓释片：30mg。").name == "片"

    def test_the_usual_dose_after_a_starting_dose(self):
        r = extract_daily_dose("口服：开始2.5mg，早餐前1次，7天后递增每天2.5mg。一般用量为每天5～10mg，最大用量每天不超过15mg。")
        assert r.daily == (5.0, 10.0)

    def test_the_target_after_a_starting_dose(self):
        r = extract_daily_dose("口服：初始剂量每次50mg，每天1～2次，每周可递增50～100mg，至每天200～300mg，分2～3次服。")
        assert r.daily == (200.0, 300.0)

    def test_a_named_maintenance_beats_a_later_phase(self):
        r = extract_daily_dose("口服：首剂0.5mg，睡前服用，以后每次0.5～1mg，每天2～3次，逐渐按疗效调整，维持量为每天6～15mg，分2～3次服。")
        assert r.daily == (6.0, 15.0)

    def test_a_small_starting_dose_then_maintenance(self):
        r = extract_daily_dose("口服：从小剂量开始，每次25～50mg，每天2～3次，逐渐递增，治疗剂量每天400～600mg。维持量每天100～200mg。")
        assert r.daily == (100.0, 200.0)

    def test_a_band_from_months_to_years(self):
        r = extract_daily_dose("口服，6个月以内一次1/4袋，6个月～1岁一次1/2袋，1～3岁一次1袋，3岁以上一次1～2袋；一日2～3次。")
        assert r.daily == (2.0, 6.0)

    def test_another_pills_weight_does_not_block_the_count(self):
        r = extract_daily_dose("口服。浓缩丸：一次8丸，一天3次。大蜜丸一次1丸，一天2次。", name="某某丸",
                               spec="浓缩丸：每8丸相当于原生药3g；大蜜丸：每丸重9g。")
        assert (r.daily_count, r.count_unit) == ((24.0, 24.0), "丸")

    def test_maintenance_in_a_section_of_its_own(self):
        r = extract_daily_dose("口服：1.快速洋地黄化：每次0.2mg，每天3次，连用2～3天。2.缓慢洋地黄化：每次0.1mg，每天3次。"
                               "3.维持量：每次0.1mg，每天1～2次。", spec="片剂：0.1mg。")
        assert (r.daily, r.daily_count) == ((0.1, 0.2), (1.0, 2.0))

    def test_an_adult_weight_band(self):
        r = extract_daily_dose("1.口服：体重≥40kg的患者，首日负荷剂量每次400mg，每12小时1次；维持剂量每次200mg，每天2次。"
                               "2.静脉滴注：首日负荷剂量每次6mg/kg，每12小时1次；维持剂量每次4mg/kg，每天2次。")
        assert r.daily == (400.0, 400.0)

    def test_a_loading_word_after_its_amount(self):
        assert extract_daily_dose("静脉滴注：成人第1天给予单次70mg负荷剂量，随后每天给予50mg。").daily == (50.0, 50.0)

    def test_a_disease_name_is_no_route(self):
        r = extract_daily_dose("口服：1.外阴阴道念珠菌病：每次200mg，每天2次，仅用1天。2.花斑癣：每次200mg，每天1次。", name="某某胶囊")
        assert r.daily == (400.0, 400.0)

    def test_a_generic_tablet_line_for_a_generic_tablet_dose(self):
        r = extract_daily_dose("口服：片剂每次20mg，每天3次；缓释片每次35mg，每天2次。", spec="1.片剂：20mg；2.缓释片：35mg。")
        assert (r.daily_count, r.count_unit) == ((3.0, 3.0), "片")

    def test_titration_weeks_then_maintenance(self):
        r = extract_daily_dose("口服。1.单药治疗：成人及12岁以上儿童，第1～2周，每次25mg，每天1次；第3～4周，每次50mg，每天1次；"
                               "以后每1～2周增加剂量，直至达到最佳疗效。通常维持量为每天100～200mg，1次或分2次服用。")
        assert r.daily == (100.0, 200.0)

    def test_a_test_dose_then_maintenance(self):
        r = extract_daily_dose("口服：先试服0.2g，观察有无过敏反应。(1)复律：第1天每次0.2g，每2小时1次，连续5次。"
                               "恢复窦性心律后改为维持量，每次0.2～0.3g，每天3～4次。")
        assert r.daily == pytest.approx((0.6, 1.2))

    def test_twelve_and_over_take_the_adult_dose(self):
        r = extract_daily_dose("口服。1.癫痫：12岁以上患者，第1天每次300mg，每天1次；第2天每次300mg，每天2次。"
                               "以后逐渐增加剂量，维持量为每天900～1800mg，分3次服用。")
        assert r.daily == (900.0, 1800.0)

    def test_the_suppository_pushed_in(self):
        r = extract_daily_dose("阴道给药。每晚临睡前洗净外阴，将栓剂1粒推入阴道深处，6天为一疗程。", spec="2.8g*6粒/盒")
        assert (r.daily, r.daily_count) == ((1.0, 1.0), (1.0, 1.0))

    def test_morning_and_noon_each_once(self):
        assert extract_daily_dose("口服：每次5mg，早晨、中午各服1次。").daily == (10.0, 10.0)

    def test_an_announced_maintenance_then_weekly_steps(self):
        r = extract_daily_dose("口服：逐渐达到维持剂量，具体如下：第1周每天5mg，第2周每天10mg，第3周每天15mg，"
                               "第4周开始以后服用推荐的维持剂量每天20mg(每次1片，每天2次)。")
        assert r.daily == (20.0, 20.0)

    def test_anti_xa_units(self):
        r = extract_daily_dose("皮下注射：1.预防：每次2000AXaIU，每天1次。2.治疗：每次100AXaIU/kg，每12小时1次。")
        assert (r.daily, r.unit) == ((2000.0, 2000.0), "AXaIU")

    def test_before_morning_and_evening_meals_each(self):
        assert extract_daily_dose("口服：每次0.6g，早、晚餐前30min各服1次。").daily == (1.2, 1.2)

    def test_a_maximum_dose_is_a_cap_and_its_daily_amount_too(self):
        r = extract_daily_dose("1.肌内注射：每次3～10mg；极量为每次20mg，每天50mg。")
        assert (r.determinable, r.reason) == (False, "no_frequency")
        r = extract_daily_dose("口服，开始每次25mg，每天1次，以后每4～7天增加25mg，最大剂量每次100mg，每天4次。")
        assert r.daily != (400.0, 400.0)

    def test_days_two_to_four_each(self):
        assert extract_daily_dose("口服：成人第1天0.8g，第2、3、4天各0.4g，疗程4天。").daily == (0.4, 0.4)
        r = extract_daily_dose("口服：成人第1天服2次，每次0.3g；第2、3天各服1次，每次0.3g。")
        assert r.daily == (0.3, 0.3)
