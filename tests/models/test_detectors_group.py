"""The group stage's price_jump model (`GroupMoves`) and the peer check's spread and density rules."""
from __future__ import annotations

import pickle

from models.detectors.group_moves import GroupMoves
from models.detectors.peer_outlier import PeerOutlier
from models.detectors.suite import DetectorSuite
from tests.models.test_detectors import change, listing


def quiet_group(suite, moves=30, step=0.02):
    """A group of 6 manufacturers whose prices move by ±`step`, and its group state."""
    state = suite.new_group_state()
    for i in range(6):
        suite.on_group_event(listing(f"M{i}-24", f"厂{i}", price=24.0), state)
    for k in range(moves):
        prev = 24.0
        price = round(prev * (1 + step if k % 2 else 1 - step), 2)
        suite.on_group_event(change(f"M{k % 6}-24", prev, price, ts=f"2026-03-{k % 28 + 1:02d}T09:00:00+08:00"), state)
    return state


def test_moderate_rise_is_a_jump_for_the_group_though_the_product_has_no_history():
    suite = DetectorSuite()
    state = quiet_group(suite)
    suite.on_group_event(listing("NEW-24", "新厂", price=20.0), state)
    rise = change("NEW-24", 20.0, 25.0)                           # +25 %: under the plain 30 % line
    assert suite.on_product_event(rise, {}) == []                 # the product stage has no history to judge by
    [finding] = suite.on_group_event({**rise, "product_alert_types": []}, state)
    assert finding.type == "price_jump" and finding.reference["kind"] == "group_model"
    assert finding.reference["modified_z"] >= 3.5 and "同通用名" in finding.explanation


def test_never_a_second_price_jump_for_an_event_the_product_stage_flagged():
    suite = DetectorSuite()
    state = quiet_group(suite)
    flagged = change("M1-24", 20.0, 25.0, product_alert_types=["price_jump"])
    assert suite.on_group_event(flagged, state) == []
    # without the product stage's types, a rise over its plain line is re-derived as its own
    assert suite.on_group_event(change("M2-24", 20.0, 27.0), state) == []


def test_noisy_group_small_rise_cut_and_cold_group_stay_quiet():
    suite = DetectorSuite()
    noisy = quiet_group(suite, step=0.12)                         # this group moves by ±12 %
    assert suite.on_group_event(change("M1-24", 20.0, 25.0), noisy) == []
    quiet = quiet_group(suite)
    assert suite.on_group_event(change("M1-24", 20.0, 23.0), quiet) == []   # +15 %: under the 20 % floor
    assert suite.on_group_event(change("M1-24", 20.0, 8.0), quiet) == []    # a procurement cut
    cold = quiet_group(suite, moves=5)                            # too few moves to judge by
    assert suite.on_group_event(change("M1-24", 20.0, 25.0), cold) == []


def test_jumps_and_cuts_do_not_teach_the_group_that_big_moves_are_ordinary():
    det = GroupMoves()
    x = {"event_type": "price_change", "region": "GD-SZ", "product_id": "P"}
    for i in range(20):
        det.learn_one({**x, "prev_price": 10.0, "price": 10.2 if i % 2 else 9.8})
    before = det.score_one({**x, "prev_price": 10.0, "price": 12.5})
    for _ in range(50):
        det.learn_one({**x, "prev_price": 10.0, "price": 4.0})
        det.learn_one({**x, "prev_price": 10.0, "price": 13.5})
    assert before > 0 and det.score_one({**x, "prev_price": 10.0, "price": 12.5}) == before


def test_group_state_with_the_move_model_survives_pickling():
    suite = DetectorSuite()
    state = pickle.loads(pickle.dumps(quiet_group(suite)))
    [finding] = suite.on_group_event(change("M3-24", 20.0, 25.0), state)
    assert finding.reference["group_moves"] == 30


# -- peer_outlier: spread between manufacturers, and the density check -------------------------
def _peer(i, cost, region="GD-SZ", maker=None):
    return {"product_id": f"P{i}", "region": region, "manufacturer": maker or f"M{i}", "dosage_form": "片剂",
            "daily_cost": [cost, cost]}


def test_one_manufacturer_in_many_regions_is_one_observation_of_the_spread():
    det = PeerOutlier()
    for i, cost in enumerate([3.0, 3.6, 4.4, 5.2, 6.0]):
        det.learn_one(_peer(i, cost))
    for region in ("BJ", "SC-CD", "ZJ-HZ", "JS-NJ", "GD-GZ", "HB-WH"):     # M2 listed at one price everywhere
        det.learn_one(_peer(2, 4.4, region=region))
    x = {**_peer(9, 7.5), "manufacturer": "新厂"}                             # 1.7× the median
    assert det.check_one(x) is None                                        # the makers spread widely: z < 3.5


def test_a_price_another_manufacturer_shares_is_not_an_outlier_on_the_z_path():
    det = PeerOutlier()
    for i, cost in enumerate([4.0, 4.1, 4.2, 3.9, 4.0, 4.1]):
        det.learn_one(_peer(i, cost))
    x = {**_peer(9, 7.0), "manufacturer": "新厂"}
    assert det.check_one(x).reference["ratio"] > 1.6                       # isolated: an outlier
    det.learn_one(_peer(7, 6.6))                                          # a second manufacturer at that level
    assert det.check_one(x) is None
    assert det.check_one({**x, "daily_cost": [12.0, 12.0]}).score >= 2    # the 2× tier holds with ≥5 makers
