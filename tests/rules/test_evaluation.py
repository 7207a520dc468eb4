"""Judging results against labels, and the dev-set accuracy the engine must keep."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules.dose import extract_daily_dose
from rules.evaluation import count_correct, judge, ranges_close, summarise

LABELS = Path(__file__).resolve().parents[2] / "data" / "inserts_dev.labeled.jsonl"
_LABEL = {"determinable": True, "per_dose": [2, 2], "times_per_day": [3, 3], "daily": [6, 6], "unit": "粒",
          "daily_count": [6, 6], "count_unit": "粒"}


class TestJudge:
    def test_tolerance_is_half_a_percent(self):
        assert ranges_close([100, 100], [100.4, 100.4]) and not ranges_close([100, 100], [101, 101])

    @pytest.mark.parametrize("got, kind", [
        ({"determinable": True, "daily": [6, 6], "unit": "粒"}, None),
        ({"determinable": True, "daily": [6, 6], "unit": "片"}, "wrong_unit"),
        ({"determinable": True, "daily": [4, 4], "unit": "粒", "per_dose": [2, 2], "times_per_day": [2, 2]}, "wrong_regimen"),
        ({"determinable": True, "daily": [4, 4], "unit": "粒"}, "wrong_range"),
        ({"determinable": False, "reason": "no_frequency"}, "wrongly_not_determinable"),
    ])
    def test_failure_kinds(self, got, kind):
        assert judge(got, _LABEL) == (kind is None, kind)

    def test_wrongly_determinable(self):
        assert judge({"determinable": True, "daily": [1, 1], "unit": "g"}, {"determinable": False}) == (False, "wrongly_determinable")

    @pytest.mark.parametrize("got, kind", [
        ({"daily_count": [6, 6], "count_unit": "粒"}, None),
        ({"daily_count": [6, 6], "count_unit": "丸"}, "wrong_count_unit"),
        ({"daily_count": [5, 5], "count_unit": "粒"}, "wrong_count"),
        ({"daily_count": None, "count_unit": None}, "wrongly_no_count"),
    ])
    def test_count_kinds(self, got, kind):
        assert count_correct(got, _LABEL) == (kind is None, kind)

    def test_summary(self):
        s = summarise([({"determinable": True, "daily": [6, 6], "unit": "粒", "daily_count": None}, _LABEL)])
        assert s["accuracy"] == 1.0 and s["count_accuracy"] == 0.0 and s["count_failures"] == {"wrongly_no_count": 1}


@pytest.mark.skipif(not LABELS.exists(), reason="dev labels not present")
def test_dev_set_accuracy_targets():
    labels = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [(extract_daily_dose(d["usage"], name=d["name"], spec=d["spec"], package=d["package"]).to_dict(), d)
             for d in labels]
    summary = summarise(pairs)
    assert summary["accuracy"] >= 0.97
    assert summary["count_accuracy"] >= 0.95


@pytest.mark.skipif(not LABELS.with_name("inserts_dev.jsonl").exists(), reason="dev inserts not present")
def test_whole_dev_corpus_parses_without_parser_errors():
    for line in LABELS.with_name("inserts_dev.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        r = extract_daily_dose(d["usage"], name=d["name"], spec=d["spec"], package=d["package"])
        assert "parser error" not in (r.why or ""), d["id"]
