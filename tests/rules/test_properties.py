"""Properties: the parser never raises, and every determinable range is consistent."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.cost import cost_listing
from rules.dose import DoseResult, extract_daily_dose

_PIECES = st.sampled_from([
    "口服", "一次", "每次", "一日", "每日", "每天", "次", "2", "3", "0.5", "半", "两", "十", "～", "~", "-", "至",
    "粒", "片", "丸", "袋", "g", "mg", "ml", "克", "毫升", "，", "。", "；", "：", "(", ")", "/d", "/kg", "成人", "儿童",
    "岁", "以上", "以下", "首次", "以后", "维持量", "或遵医嘱", "大蜜丸", "水蜜丸", "胶囊", "注射", "隔日", "每8小时",
    "早晚各", "分", "l", "O", "1.", "(1)", "①", "不超过", "总量", "瓶盖", "(3～6g)", "万U",
])
_INSERTISH = st.lists(_PIECES, max_size=30).map("".join)
_ANY_TEXT = st.one_of(st.text(max_size=200), _INSERTISH)
_SPEC = st.one_of(st.none(), st.text(max_size=40), st.lists(st.sampled_from(
    ["每粒装", "0.3g", "*", "12", "粒", "袋", "/", "支", "10ml", "每100粒重", "6g", "片剂：", "5mg", "，", "或"]),
    max_size=8).map("".join))


def _consistent(r: tuple[float, float] | None) -> bool:
    return r is None or (0 <= r[0] <= r[1])


@settings(max_examples=400, deadline=None)
@given(usage=_ANY_TEXT, name=st.one_of(st.none(), st.text(max_size=10)), spec=_SPEC, package=_SPEC)
def test_never_raises_and_ranges_are_consistent(usage, name, spec, package):
    r = extract_daily_dose(usage, name=name, spec=spec, package=package)
    assert isinstance(r, DoseResult)
    assert 0.0 <= r.confidence <= 1.0
    if r.determinable:
        assert r.reason is None and r.daily is not None and r.unit
        for span in (r.per_dose, r.times_per_day, r.daily, r.daily_count):
            assert _consistent(span)
        assert (r.daily_count is None) == (r.count_unit is None)
    else:
        assert r.reason in ("no_frequency", "no_amount", "weight_or_area_based", "truncated", "conflicting")
        assert r.daily is None
    assert DoseResult.from_dict(r.to_dict()) == r


@settings(max_examples=200, deadline=None)
@given(usage=_INSERTISH, spec=_SPEC, price=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 500)),
       pack_qty=st.one_of(st.none(), st.integers(-3, 100), st.text(max_size=3)))
def test_costing_never_raises(usage, spec, price, pack_qty):
    c = cost_listing(extract_daily_dose(usage, spec=spec), spec=spec, price=price, pack_qty=pack_qty)
    assert _consistent(c.daily_cost) and _consistent(c.cost_per_yuan)
    assert (c.daily_cost is None) == (c.cost_reason is not None) or c.cost_reason == "no price"


@settings(max_examples=200, deadline=None)
@given(per_dose=st.integers(1, 20), extra=st.integers(0, 10), times=st.integers(1, 6), unit=st.sampled_from(["粒", "片", "g", "ml", "mg"]))
def test_generated_regimens_read_back(per_dose, extra, times, unit):
    hi = per_dose + extra
    amount = f"{per_dose}{unit}" if not extra else f"{per_dose}～{hi}{unit}"
    r = extract_daily_dose(f"口服，一次{amount}，一日{times}次。")
    assert r.daily == (per_dose * times, hi * times) and r.unit == unit
