"""Unit tests of the detectors: the shared contract, each detector's lines, hard negatives, restart."""
from __future__ import annotations

import json
import pickle

import pytest

from models.detectors.base import Detector, Finding
from models.detectors.cross_region import CrossRegionGap
from models.detectors.dose_outlier import DoseOutlier
from models.detectors.hidden_increase import HiddenIncrease
from models.detectors.peer_outlier import PeerOutlier
from models.detectors.price_jump import PriceJump
from models.detectors.ratio_rule import RatioRule
from models.detectors.settings import DetectorSettings
from models.detectors.siblings import SiblingBook
from models.detectors.suite import DetectorSuite

SEVERITIES = {"low", "medium", "high", "critical"}


def listing(pid="A-24", manufacturer="甲厂", price=24.0, pack_qty=24, cost=None, region="GD-SZ", **extra):
    """An enriched listing of a tablet taken 6 a day (daily cost = 6 × price / pack_qty)."""
    daily_cost = cost if cost is not None else 6 * price / pack_qty
    return {"event_type": "listing", "event_id": f"{pid}-{region}-{price}", "ts": "2026-02-01T09:00:00+08:00",
            "product_id": pid, "region": region, "generic_name": "阿奇霉素片", "manufacturer": manufacturer,
            "dosage_form": "片剂", "spec": f"0.25g*{pack_qty}片", "pack_qty": pack_qty, "min_unit": "片",
            "price": price, "prev_price": None, "daily": [6, 6], "unit": "片", "daily_count": [6, 6],
            "count_unit": "片", "daily_cost": [daily_cost, daily_cost], **extra}


def change(pid, prev, price, region="GD-SZ", ts="2026-03-01T09:00:00+08:00", **extra):
    return {**listing(pid, price=price, region=region), "event_type": "price_change", "prev_price": prev,
            "event_id": f"{pid}-{region}-{ts}-{price}", "ts": ts, **extra}


def peers(n=5, base=24.0, spread=(1.0, 1.04, 0.97, 1.02, 0.99, 1.05, 0.96, 1.01)):
    return [listing(f"M{i}-24", f"厂{i}", price=base * spread[i % len(spread)]) for i in range(n)]


def run_group(suite, events, state=None):
    state = state or suite.new_group_state()
    out = []
    for event in events:
        out.append(suite.on_group_event(event, state))
    return out, state


def run_product(suite, events, state=None):
    state = {} if state is None else state
    return [suite.on_product_event(e, state) for e in events], state


# -- the contract every detector follows -------------------------------------------------------

ALL_DETECTORS = {
    "peer_outlier": (lambda: PeerOutlier(), peers(5), listing("Q-24", "新厂", price=24 * 4)),
    "price_jump": (lambda: PriceJump().bind({}), [], change("A-24", 20.0, 48.0)),
    "cross_region_gap": (lambda: CrossRegionGap().bind({}), [listing(region="ZJ-HZ", price=20.0)],
                         listing(region="GD-SZ", price=40.0)),
    "hidden_increase": (lambda: HiddenIncrease(SiblingBook()), [listing("A-24", price=24.0)],
                        listing("A-12", price=23.0, pack_qty=12)),
    "ratio_rule_violation": (lambda: RatioRule(SiblingBook()), [listing("A-12", price=12.0, pack_qty=12)],
                             listing("A-24", price=30.0, pack_qty=24)),
    "dose_outlier": (lambda: DoseOutlier(), peers(5), {**listing("Q-24", "新厂"), "daily": [60, 60]}),
}


@pytest.mark.parametrize("name", sorted(ALL_DETECTORS))
class TestContract:
    def test_scores_before_learning_and_explains(self, name):
        factory, history, anomaly = ALL_DETECTORS[name]
        detector = factory()
        assert isinstance(detector, Detector)
        for event in history:
            assert detector.score_one(event) == 0.0
            assert detector.learn_one(event) is None
        finding = detector.check_one(anomaly)
        assert isinstance(finding, Finding) and finding.type == name == detector.alert_type
        assert finding.severity in SEVERITIES and finding.score > 0 and finding.reference
        assert finding.explanation.endswith("。") and any("\u4e00" <= c <= "\u9fff" for c in finding.explanation)
        assert detector.score_one(anomaly) == finding.score  # score_one only reads
        json.dumps(finding.reference, ensure_ascii=False)

    def test_cold_detector_says_nothing(self, name):
        factory, history, anomaly = ALL_DETECTORS[name]
        if not history:
            pytest.skip("price_jump judges a move against its own previous price, no history needed")
        assert factory().score_one(anomaly) == 0.0


# -- peer_outlier ------------------------------------------------------------------------------
class TestPeerOutlier:
    def test_explanation_names_median_and_ratio(self):
        suite = DetectorSuite()
        (*_, last), _ = run_group(suite, peers(7, base=16.4) + [listing("Q-24", "新厂", price=73.6)])
        assert last[0].type == "peer_outlier"
        assert "7 家企业中位数" in last[0].explanation and "4.5 倍" in last[0].explanation
        assert last[0].reference["peer_n"] == 7

    @pytest.mark.parametrize("factor", [0.8, 1.0, 1.2, 1.4])
    def test_new_manufacturer_in_line_is_quiet(self, factor):
        (*_, last), _ = run_group(DetectorSuite(), peers(6) + [listing("Q-24", "新厂", price=24 * factor)])
        assert last == []

    def test_cold_start_group_says_insufficient_peers(self):
        detector = PeerOutlier()
        for event in peers(2):
            detector.learn_one(event)
        x = listing("Q-24", "新厂", price=24 * 5)
        assert detector.check_one(x) is None
        assert detector.describe(x) == "insufficient peers (2 < 3)"

    def test_listed_manufacturers_same_pack_far_dearer_is_compared_with_peers(self):
        events = peers(5) + [listing("A-24", "甲厂", price=24.0),
                             {**listing("A-24b", "甲厂", price=72.0), "spec": "0.25g*12片*2板"}]
        (*_, before, last), _ = run_group(DetectorSuite(), events)
        assert before == [] and [f.type for f in last] == ["peer_outlier"]

    def test_own_manufacturer_is_not_a_peer(self):
        detector = PeerOutlier()
        for i in range(5):
            detector.learn_one(listing(f"A-{i}", "甲厂", price=10.0, region=f"R{i}"))
        assert detector.describe(listing("A-9", "甲厂", price=40.0)) == "insufficient peers (0 < 3)"

    def test_wide_group_needs_the_2x_tier(self):
        wide = [listing(f"M{i}-24", f"厂{i}", price=p) for i, p in enumerate([10, 14, 20, 28, 40, 16, 24])]
        detector = PeerOutlier()
        for event in wide:
            detector.learn_one(event)
        assert detector.check_one(listing("Q-24", "新厂", price=32.0)) is None   # 1.6× median, ordinary here
        assert detector.check_one(listing("Q-24", "新厂", price=45.0)).type == "peer_outlier"  # 2.25×

    def test_severity_follows_the_ladder(self):
        detector = PeerOutlier()
        for event in peers(6):
            detector.learn_one(event)
        got = [detector.check_one(listing("Q-24", "新厂", price=24 * f)).severity for f in (1.7, 3, 6, 12)]
        assert got == ["low", "medium", "high", "critical"]


# -- price_jump --------------------------------------------------------------------------------
class TestPriceJump:
    def test_single_jump_over_the_line(self):
        results, _ = run_product(DetectorSuite(), [listing(price=20.0), change("A-24", 20.0, 27.0)])
        assert results[-1][0].reference["kind"] == "single"
        assert results[-1][0].reference["previous_price"] == 20.0

    @pytest.mark.parametrize("factor", [0.2, 0.5, 0.95, 1.03, 1.08])
    def test_cuts_and_small_moves_are_quiet(self, factor):
        results, _ = run_product(DetectorSuite(), [listing(price=20.0), change("A-24", 20.0, 20.0 * factor)])
        assert results[-1] == []

    def test_creeping_run_alerts_from_the_crossing_rise(self):
        prices = [20.0, 21.6, 23.3, 25.2, 27.2, 29.4]
        events = [listing(price=20.0)] + [change("A-24", a, b, ts=f"2026-0{i + 2}-01T09:00:00+08:00")
                                          for i, (a, b) in enumerate(zip(prices, prices[1:]))]
        results, _ = run_product(DetectorSuite(), events)
        kinds = [r[0].reference["kind"] if r else None for r in results]
        assert kinds == [None, None, None, None, "creeping", "creeping"]
        assert "连续 4 次上涨" in results[4][0].explanation

    def test_a_fall_giving_back_over_a_quarter_of_the_run_ends_it(self):
        prices = [20.0, 21.6, 23.3, 21.5, 23.2, 25.1, 27.1]     # 20 → 27.1 is +35 %, but −7.7 % broke the trend
        events = [listing(price=20.0)] + [change("A-24", a, b, ts=f"2026-0{i + 2}-01T09:00:00+08:00")
                                          for i, (a, b) in enumerate(zip(prices, prices[1:]))]
        results, _ = run_product(DetectorSuite(), events)
        assert all(r == [] for r in results)

    def test_a_token_fall_only_pauses_the_run(self):
        prices = [20.0, 21.6, 23.3, 22.9, 24.7, 26.6]           # −1.7 % between small rises: +33 % in all
        events = [listing(price=20.0)] + [change("A-24", a, b, ts=f"2026-0{i + 2}-01T09:00:00+08:00")
                                          for i, (a, b) in enumerate(zip(prices, prices[1:]))]
        results, _ = run_product(DetectorSuite(), events)
        assert [bool(r) for r in results] == [False] * 5 + [True]
        finding = results[-1][0]
        assert finding.reference["rises"] == 4 and finding.reference["falls"] == 1
        assert "其间小幅回落" in finding.explanation and "累计涨幅 33%" in finding.explanation

    def test_learned_scale_flags_a_smaller_rise_on_a_steady_product(self):
        state = {}
        suite = DetectorSuite()
        price = 20.0
        for i in range(8):  # eight moves of ±0.5 %
            new = round(price * (1.005 if i % 2 else 0.995), 2)
            assert suite.on_product_event(change("A-24", price, new, ts=f"2026-01-{i + 10}T09:00:00+08:00"), state) == []
            price = new
        finding = suite.on_product_event(change("A-24", price, price * 1.25), state)[0]
        assert finding.reference["kind"] == "single" and finding.reference["typical_move"] is not None


# -- cross_region_gap --------------------------------------------------------------------------
class TestCrossRegionGap:
    def test_new_region_far_above(self):
        results, _ = run_product(DetectorSuite(), [listing(region="ZJ-HZ", price=15.0), listing(region="GD-SZ", price=30.0)])
        assert results[-1][0].type == "cross_region_gap"
        assert results[-1][0].reference["other_region_price"] == 15.0

    def test_gap_left_by_another_regions_cut_is_not_reraised(self):
        events = [listing(region="ZJ-HZ", price=20.0), listing(region="GD-SZ", price=21.0),
                  change("A-24", 20.0, 8.0, region="ZJ-HZ"),                            # 集采 cut
                  change("A-24", 21.0, 21.6, region="GD-SZ", ts="2026-04-01T09:00:00+08:00")]
        results, _ = run_product(DetectorSuite(), events)
        assert results == [[], [], [], []]

    def test_a_jump_that_opens_a_gap_raises_both(self):
        events = [listing(region="ZJ-HZ", price=20.0), listing(region="GD-SZ", price=20.0),
                  change("A-24", 20.0, 50.0, region="GD-SZ")]
        results, _ = run_product(DetectorSuite(), events)
        assert [f.type for f in results[-1]] == ["price_jump", "cross_region_gap"]
        assert results[-1][1].reference["other_region_price"] == 20.0


# -- hidden_increase and ratio_rule_violation ----------------------------------------------------
class TestSiblings:
    def test_half_pack_at_the_same_price_is_hidden_increase(self):
        (*_, last), _ = run_group(DetectorSuite(), [listing("A-24", price=24.0), listing("A-12", price=24.0, pack_qty=12)])
        assert [f.type for f in last] == ["hidden_increase"]
        assert last[0].reference["sibling_product_id"] == "A-24" and last[0].reference["cost_ratio"] == 2.0

    @pytest.mark.parametrize("pack_qty, price", [(48, 46.8), (48, 40.0), (72, 69.0), (12, 12.3)])
    def test_packs_within_the_ratio_rule_are_quiet(self, pack_qty, price):
        (*_, last), _ = run_group(DetectorSuite(), [listing("A-24", price=24.0), listing(f"A-{pack_qty}", price=price, pack_qty=pack_qty)])
        assert last == []

    def test_bigger_pack_over_the_ceiling(self):
        (*_, last), _ = run_group(DetectorSuite(), [listing("A-24", price=24.0), listing("A-48", price=60.0, pack_qty=48)])
        finding = last[0]
        assert finding.type == "ratio_rule_violation"
        assert finding.reference["expected_max_price"] == pytest.approx(46.8)
        assert "K=1.95^log2X" in finding.explanation

    def test_stronger_tablet_uses_the_strength_ratio(self):
        weak = listing("A-24", price=24.0)
        strong = {**listing("B-24", price=48.0), "spec": "0.5g*24片"}   # 2× strength at 2× price; 1.7× allowed
        (*_, last), _ = run_group(DetectorSuite(), [weak, strong])
        assert last[0].type == "ratio_rule_violation" and last[0].reference["rules"] == ["strength"]
        assert last[0].reference["expected_max_price"] == pytest.approx(40.8)

    def test_lower_strength_at_the_same_price_from_mg_doses(self):
        base = {**listing("A-24", price=24.0, cost=4.0), "daily": [1000, 1000], "unit": "mg", "daily_count": [4, 4]}
        weak = {**listing("A-24w", price=24.0), "spec": "0.125g*24片", "daily": [1000, 1000], "unit": "mg",
                "daily_count": [8, 8], "daily_cost": [8.0, 8.0]}
        (*_, last), _ = run_group(DetectorSuite(), [base, weak])
        assert last[0].type == "hidden_increase" and last[0].reference["cost_ratio"] == 2.0

    def test_other_manufacturers_are_not_siblings(self):
        (*_, last), _ = run_group(DetectorSuite(), [listing("A-24", price=24.0), listing("B-12", "乙厂", price=24.0, pack_qty=12)])
        assert last == []


# -- dose_outlier ------------------------------------------------------------------------------
class TestDoseOutlier:
    @pytest.mark.parametrize("daily", [[60, 60], [0.5, 0.5]])
    def test_far_dose_routed_for_review_not_as_price(self, daily):
        events = peers(5) + [{**listing("Q-24", "新厂", price=24.0, cost=6 * daily[0]), "daily": daily,
                              "daily_count": daily}]
        (*_, last), state = run_group(DetectorSuite(), events)
        (finding,) = last
        assert finding.type == "dose_outlier" and finding.severity in {"low", "medium"}
        assert "疑似用量提取或数据错误，请复核" in finding.explanation
        assert "Q-24" in state.dose_suspects
        assert all(pid != "Q-24" for pid, _ in state.peer._forms["片"])  # its cost stays out of the peers

    def test_ordinary_dose_differences_are_quiet(self):
        events = peers(5) + [{**listing("Q-24", "新厂"), "daily": [12, 12], "daily_count": [12, 12]}]
        (*_, last), _ = run_group(DetectorSuite(), events)
        assert last == []

    def test_needs_both_checks(self):
        detector = DoseOutlier()
        for i, d in enumerate([6, 6, 6, 6, 60, 60]):  # a second cluster at 60: the density check says no
            detector.learn_one({**listing(f"M{i}", f"厂{i}"), "daily": [d, d]})
        assert detector.check_one({**listing("Q", "新厂"), "daily": [60, 60]}) is None


# -- settings and restart ----------------------------------------------------------------------
class TestSettingsAndState:
    def test_invalid_settings_are_refused(self):
        with pytest.raises(ValueError, match="peer_ratio"):
            DetectorSettings(peer_ratio=0.9)

    def test_settings_reach_the_detectors(self):
        suite = DetectorSuite(DetectorSettings(jump_ratio=2.0, jump_model_ratio=1.9, creep_ratio=5.0))
        results, _ = run_product(suite, [listing(price=20.0), change("A-24", 20.0, 35.0)])
        assert results[-1] == []

    def test_state_survives_a_restart(self):
        suite = DetectorSuite()
        product_state, group_state = {}, suite.new_group_state()
        for event in peers(5) + [listing(region="ZJ-HZ", price=24.0)]:
            suite.on_product_event(event, product_state if event["product_id"] == "A-24" else {})
            suite.on_group_event(event, group_state)
        product_state = json.loads(json.dumps(product_state))   # the Faust table's JSON round trip
        group_state = pickle.loads(pickle.dumps(group_state))   # the pickled group table
        restarted = DetectorSuite()
        assert restarted.on_group_event(listing("Q-24", "新厂", price=100.0), group_state)[0].type == "peer_outlier"
        assert restarted.on_product_event(listing(region="GD-SZ", price=60.0), product_state)[0].type == "cross_region_gap"
