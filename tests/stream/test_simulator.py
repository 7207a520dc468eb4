"""The simulated feed: format, realism, labels, reproducibility."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from stream.cli import main
from stream.simulator import HARD_NEGATIVES, REGIONS, simulate

ALERT_TYPES = {"peer_outlier", "price_jump", "hidden_increase", "cross_region_gap", "ratio_rule_violation",
               "dose_outlier"}


@pytest.fixture(scope="module")
def sim():
    return simulate(seed=7)


class TestFeed:
    def test_lines_follow_the_feed_format(self, sim):
        for line in sim.events:
            assert line["topic"] in {"drug.listings", "drug.price-changes"}
            assert line["key"] == line["value"]["product_id"]
            value = line["value"]
            assert datetime.fromisoformat(value["ts"]).utcoffset().total_seconds() == 8 * 3600
            assert value["ts"].endswith("+08:00") and value["region"] in REGIONS
            if line["topic"] == "drug.listings":
                assert {"generic_name", "manufacturer", "usage", "price", "spec"} <= set(value)
            else:
                assert value["new_price"] > 0

    def test_some_listings_leave_the_pack_count_to_the_spec(self, sim):
        listings = [l["value"] for l in sim.events if l["topic"] == "drug.listings"]
        without = [v for v in listings if "pack_qty" not in v]
        assert 0 < len(without) < len(listings)
        assert all("*" in v["spec"] for v in without)

    def test_listing_comes_before_the_products_price_changes(self, sim):
        listed = set()
        for line in sim.events:
            pid = line["value"]["product_id"]
            if line["topic"] == "drug.listings":
                listed.add(pid)
            else:
                assert pid in listed

    def test_times_do_not_go_back(self, sim):
        times = [datetime.fromisoformat(line["value"]["ts"]) for line in sim.events]
        assert times == sorted(times)

    def test_built_on_the_real_data(self, sim):
        names = {json.loads(l)["name"] for l in open("data/prices_sample.jsonl", encoding="utf-8")}
        usages = {json.loads(l)["usage"] for l in open("data/inserts_dev.jsonl", encoding="utf-8")}
        listings = [l["value"] for l in sim.events if l["topic"] == "drug.listings"]
        assert sum(v["generic_name"] in names for v in listings) / len(listings) > 0.9
        assert sum(v["usage"] in usages for v in listings) / len(listings) > 0.9


class TestTruth:
    def test_one_label_per_event(self, sim):
        assert [t["event_id"] for t in sim.truth] == [l["value"]["event_id"] for l in sim.events]
        assert len({t["event_id"] for t in sim.truth}) == len(sim.truth)

    def test_every_pattern_and_hard_negative_is_there(self, sim):
        types = Counter(t["type"] for t in sim.truth if t["type"])
        cases = Counter(t["case"] for t in sim.truth)
        assert set(types) == ALERT_TYPES and min(types.values()) >= 5
        assert HARD_NEGATIVES <= set(cases)
        assert not any(t["type"] for t in sim.truth if t["case"] in HARD_NEGATIVES)

    def test_creeping_rises_are_each_small(self, sim):
        changes = {l["value"]["event_id"]: l["value"] for l in sim.events if l["topic"] == "drug.price-changes"}
        creeping = [changes[t["event_id"]] for t in sim.truth if t["case"] in {"creeping", "creep_step"}]
        assert creeping and all(1.0 < c["new_price"] / c["old_price"] < 1.12 for c in creeping)

    def test_reproducible_from_the_seed(self):
        assert simulate(seed=3, n_groups=10).events == simulate(seed=3, n_groups=10).events
        assert simulate(seed=3, n_groups=10).events != simulate(seed=4, n_groups=10).events


def test_simulate_then_eval_from_the_command_line(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path), "--seed", "5", "--groups", "25"]) == 0
    assert (tmp_path / "events.jsonl").exists() and (tmp_path / "truth.jsonl").exists()
    assert main(["eval", "alerts", "--events", str(tmp_path / "events.jsonl"),
                 "--truth", str(tmp_path / "truth.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 2)[-1])
    assert report["events"] > 500 and report["f1"] > 0.9 and report["deadletters"] == 0
