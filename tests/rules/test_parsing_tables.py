"""Numerals, units, forms, frequencies and spec parsing: the table-driven pieces."""
from __future__ import annotations

import pytest

from rules.forms import form_match, lookup_form, product_form
from rules.frequency import parse_frequency
from rules.numerals import normalise_text, parse_number
from rules.spec import parse_pack
from rules.units import dimension, normalise_unit, same_count_unit, to_base


class TestNumerals:
    @pytest.mark.parametrize("token, value", [
        ("3", 3.0), ("0.25", 0.25), ("1/2", 0.5), ("一", 1.0), ("两", 2.0), ("十", 10.0), ("十二", 12.0),
        ("二十", 20.0), ("二十四", 24.0), ("半", 0.5), ("一百", 100.0),
    ])
    def test_parse_number(self, token, value):
        assert parse_number(token) == value

    @pytest.mark.parametrize("raw, expected", [
        ("一次lOml", "一次10ml"), ("1OOmg", "100mg"), ("O.5g", "0.5g"), ("l岁以内", "1岁以内"),
        ("一曰3次", "一日3次"), ("—次2片", "一次2片"), ("2～3粒", "2~3粒"), ("2-3粒", "2~3粒"),
        ("2至3粒", "2~3粒"), ("一次 2 粒", "一次2粒"), ("１０ｍｌ", "10ml"),
    ])
    def test_normalise_text(self, raw, expected):
        assert normalise_text(raw) == expected

    def test_latin_words_are_left_alone(self):
        assert normalise_text("本品含Lol和ml") == "本品含Lol和ml"


class TestUnits:
    @pytest.mark.parametrize("raw, unit, dim", [
        ("克", "g", "mass"), ("毫克", "mg", "mass"), ("微克", "μg", "mass"), ("毫升", "ml", "volume"),
        ("升", "L", "volume"), ("粒", "粒", "count"), ("瓶盖", "瓶盖", "household"), ("万U", "万U", "activity"),
    ])
    def test_normalise_and_dimension(self, raw, unit, dim):
        assert normalise_unit(raw) == unit and dimension(unit) == dim

    def test_to_base(self):
        assert to_base(500, "mg") == 0.5 and to_base(2, "L") == 2000

    def test_synonyms_for_conversion(self):
        assert same_count_unit("丸", "粒") and same_count_unit("包", "袋") and not same_count_unit("片", "粒")


class TestForms:
    @pytest.mark.parametrize("name, spec, form", [
        ("黄葵胶囊", None, "胶囊"), ("参苓白术片", None, "片"), ("小儿感冒颗粒", None, "颗粒"),
        ("感冒灵冲剂", None, "颗粒"), ("柴胡注射剂", None, "注射"), (None, "胶囊剂：每粒装0.5g。", "胶囊"),
        ("龟鹿滋肾丸", "大蜜丸每丸重9g。", "大蜜丸"),
    ])
    def test_product_form(self, name, spec, form):
        assert product_form(name, spec).name == form

    def test_several_forms_in_spec_choose_nothing(self):
        assert product_form(None, "1.片剂：2mg；2.注射剂：2mg。") is None

    def test_family_match(self):
        assert form_match(lookup_form("水蜜丸"), lookup_form("丸")) == 1
        assert form_match(lookup_form("水蜜丸"), lookup_form("大蜜丸")) == 0


class TestFrequencyTable:
    @pytest.mark.parametrize("text, expected", [
        ("一日3次", (3, 3)), ("一日2~3次", (2, 3)), ("每日3次", (3, 3)), ("每天1次", (1, 1)),
        ("3次/d", (3, 3)), ("1~2次/日", (1, 2)), ("日服2次", (2, 2)), ("隔日一次", (0.5, 0.5)),
        ("每8小时一次", (3, 3)), ("每6~8小时1次", (3, 4)), ("早晚各一次", (2, 2)), ("每晚一次", (1, 1)),
        ("睡前服", (1, 1)), ("每周3次", (3 / 7, 3 / 7)), ("一日三次", (3, 3)), ("tid", (3, 3)),
        ("每天或隔日1次", (0.5, 1)), ("4h一次", (6, 6)), ("1次/4~7天", (1 / 7, 1 / 4)), ("每4~5天1次", (0.2, 0.25)), ("每4周1次", (1 / 28, 1 / 28)), ("早(空腹)、晚各一次", (2, 2)),
    ])
    def test_reads_times_per_day(self, text, expected):
        assert parse_frequency(text) == pytest.approx(expected, rel=1e-4)

    def test_no_frequency(self):
        assert parse_frequency("涂患处") is None


class TestSpec:
    @pytest.mark.parametrize("spec, package, unit, per_unit", [
        ("每粒装0.3g", None, "粒", 0.3), ("每100粒重6g", None, "粒", 0.06), ("每丸重9g", None, "丸", 9.0),
        ("每袋装10g", None, "袋", 10.0), ("10ml/支", None, "支", 10.0), ("每支10ml", None, "支", 10.0),
        ("10g*6袋", None, "袋", 10.0), ("片剂：5mg。", None, "片", 0.005), ("每粒O.4g", None, "粒", 0.4),
        ("每片重0.32g(相当于原药材0.3g)", None, "片", 0.32), (None, "每袋装7g，每盒装10袋", "袋", 7.0),
    ])
    def test_per_unit_content(self, spec, package, unit, per_unit):
        content = parse_pack(spec, package).contents[0]
        assert content.unit == unit and content.base_per_unit == pytest.approx(per_unit)

    @pytest.mark.parametrize("spec, package, qty, unit", [
        ("0.5g*12片*2板", None, 24, "片"), (None, "铝塑包装，每盒装36片", 36, "片"), ("12粒×3板/盒", None, 36, "粒"),
        ("6袋/盒", None, 6, "袋"), ("0.3g*10粒*4板*2小盒/盒", None, 80, "粒"), ("0.38g*12s*3板", None, 36, "s"),
        (None, "铝塑板，每板装12粒，每盒装4板。", 48, "粒"), ("每10丸重2g。", "每袋装7g，每盒装10袋。", 10, "袋"),
        ("0.2g*90粒/盒", "铝塑包装，30粒/板*3板/盒。", 90, "粒"),
    ])
    def test_pack_quantity(self, spec, package, qty, unit):
        facts = parse_pack(spec, package)
        assert (facts.pack_qty, facts.pack_unit) == (qty, unit)

    def test_several_sizes_are_all_kept(self):
        assert len(parse_pack("颗粒剂，10g/袋或15g/袋。").contents) == 2

    def test_spec_lines_keep_their_form(self):
        forms = [c.form for c in parse_pack("水蜜丸每10粒重1g，大蜜丸每丸重9g").contents]
        assert forms == ["水蜜丸", "大蜜丸"]


def test_bracketed_volume_is_a_content_too():
    contents = parse_pack("注射剂：100mg(5ml)。").contents
    assert {(c.unit, c.amount, c.measure) for c in contents} == {("支", 100.0, "mg"), ("支", 5.0, "ml")}


@pytest.mark.parametrize("spec, per_unit", [("水丸：18粒重1g。", 1 / 18), ("每45粒约重3克", 3 / 45)])
def test_weight_of_n_pills_without_mei(spec, per_unit):
    assert parse_pack(spec).contents[0].base_per_unit == pytest.approx(per_unit)


def test_markup_is_dropped():
    assert normalise_text("每晚一粒。<br/>1.洗净双手") == "每晚一粒。1.洗净双手"
