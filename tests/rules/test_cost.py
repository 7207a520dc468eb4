"""Daily cost: by count, by content, and never a guess."""
from __future__ import annotations

import pytest

from rules.cost import CostResult, cost_listing
from rules.dose import extract_daily_dose


def _cost(usage, *, spec=None, package=None, name=None, **kw):
    dose = extract_daily_dose(usage, name=name, spec=spec, package=package)
    return cost_listing(dose, spec=spec, package=package, **kw)


class TestByCount:
    def test_unit_price_times_daily_count(self):
        c = _cost("口服。一次2粒，一日3次。", spec="0.3g*12粒*2板", price=24.0)
        assert (c.pack_qty, c.min_unit, c.unit_price, c.daily_cost) == (24, "粒", 1.0, (6.0, 6.0))

    def test_fields_win_over_spec(self):
        c = _cost("口服，一次1袋，一日3次。", spec="10g*6袋", pack_qty=12, min_unit="袋", price=36.0)
        assert (c.pack_qty, c.unit_price, c.daily_cost) == (12, 3.0, (9.0, 9.0))

    def test_weight_dose_converted_then_priced(self):
        c = _cost("开水冲服，一次10～20g，一日3次。", spec="10g*10袋", price=20.0)
        assert c.daily_cost == (6.0, 12.0)

    def test_s_is_the_form_unit(self):
        c = _cost("口服，一次4粒，一日3次。", spec="0.43g*24s", price=24.0)
        assert (c.min_unit, c.daily_cost) == ("粒", (12.0, 12.0))

    def test_cost_per_yuan_reprices_by_multiplication(self):
        c = _cost("口服。一次2粒，一日3次。", spec="0.3g*36粒", price=18.0)
        assert c.cost_per_yuan[0] * 18.0 == pytest.approx(c.daily_cost[0])
        assert c.cost_per_yuan[0] * 27.0 == pytest.approx(4.5)


class TestByContent:
    def test_syrup_bottle_priced_by_volume(self):
        c = _cost("口服，一次15ml，一日2次。", spec="100ml/瓶", name="止咳糖浆", price=25.0)
        assert c.daily_cost == (7.5, 7.5)

    def test_jar_of_gao_priced_by_weight(self):
        c = _cost("口服，一次10克，一日2次。", spec="每瓶装250g", price=50.0)
        assert c.daily_cost == (4.0, 4.0)


class TestNoGuess:
    def test_not_determinable_dose(self):
        c = _cost("口服。一次30～60ml。", spec="100ml/瓶", price=10.0)
        assert c.daily_cost is None and "not determinable" in c.cost_reason

    def test_no_pack_quantity(self):
        c = _cost("口服，一次3片，一日3次。", price=10.0)
        assert c.daily_cost is None and c.cost_reason

    def test_no_price_keeps_cost_per_yuan(self):
        c = _cost("口服。一次2粒，一日3次。", spec="0.3g*12粒*2板")
        assert c.daily_cost is None and c.cost_per_yuan == (0.25, 0.25) and c.cost_reason == "no price"

    @pytest.mark.parametrize("price", [None, "abc", -5, float("nan"), 0])
    def test_bad_prices(self, price):
        c = _cost("口服。一次2粒，一日3次。", spec="0.3g*12粒*2板", price=price)
        assert isinstance(c, CostResult) and c.daily_cost is None

    def test_to_dict_is_json_ready(self):
        d = _cost("口服。一次2粒，一日3次。", spec="0.3g*12粒*2板", price=24.0).to_dict()
        assert d["daily_cost"] == [6.0, 6.0] and set(d) == {
            "pack_qty", "min_unit", "unit_price", "cost_per_yuan", "daily_cost", "cost_reason"}


class TestBareSpecs:
    def test_a_jar_given_only_by_weight(self):
        c = _cost("口服，一次10g，一日2次。", spec="150g", price=30.0)
        assert c.daily_cost == (4.0, 4.0)

    def test_a_bare_strength_with_the_package_piece(self):
        c = _cost("口服，一次0.2g，一日3次。", spec="0.1g", package="16片/盒", price=16.0)
        assert (c.min_unit, c.unit_price, c.daily_cost) == ("片", 1.0, (6.0, 6.0))


def test_a_box_of_two_jars_priced_by_weight():
    c = _cost("口服，一次5g，一日2次。", spec="15gx2瓶/盒", price=30.0)
    assert (c.pack_qty, c.min_unit, c.daily_cost) == (2, "瓶", (10.0, 10.0))
