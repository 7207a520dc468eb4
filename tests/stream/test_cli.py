"""The command line end to end, in-process: extract, eval, simulate + replay + eval alerts, report."""
from __future__ import annotations

import json

import pytest

from stream.cli import main


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class TestExtract:
    def test_dose_and_cost_per_line_and_an_error_record_for_bad_lines(self, tmp_path):
        source = tmp_path / "in.jsonl"
        source.write_text("\n".join([
            json.dumps({"id": "a", "name": "银杏叶片", "spec": "每片重0.2g", "package": "每盒装24片",
                        "usage": "口服。一次2片，一日3次。", "price": 12.0}, ensure_ascii=False),
            "{not json",
            json.dumps({"id": "c", "spec": "每粒装0.3g"}),
        ]), encoding="utf-8")
        out = tmp_path / "out.jsonl"
        assert main(["extract", "--input", str(source), "--output", str(out)]) == 0
        rows = _lines(out)
        assert len(rows) == 3
        good = next(r for r in rows if r.get("id") == "a")
        assert good["daily"] == [6, 6] and good["unit"] == "片" and good["daily_cost"] == pytest.approx([3.0, 3.0])
        errors = [r for r in rows if r.get("error")]
        assert len(errors) == 2 and any(r.get("id") == "c" for r in errors)


class TestEvalExtraction:
    def test_prints_accuracy_and_writes_misses(self, tmp_path, capsys):
        misses = tmp_path / "misses.txt"
        assert main(["eval", "extraction", "--labels", "data/inserts_dev.labeled.jsonl", "--misses", str(misses)]) == 0
        printed = capsys.readouterr().out
        assert "daily-dose accuracy" in printed and "daily_count accuracy" in printed
        assert misses.exists()


class TestSimulateReplayEval:
    def test_the_simulated_feed_goes_through_replay_and_is_scored(self, tmp_path, capsys):
        assert main(["simulate", "--out", str(tmp_path), "--seed", "3"]) == 0
        events, truth = tmp_path / "events.jsonl", tmp_path / "truth.jsonl"
        assert len(_lines(events)) == len(_lines(truth)) > 100
        alerts, enriched = tmp_path / "alerts.jsonl", tmp_path / "enriched.jsonl"
        assert main(["replay", "--input", str(events), "--output", str(alerts), "--enriched", str(enriched)]) == 0
        assert {a["type"] for a in _lines(alerts)} >= {"peer_outlier", "price_jump"}
        capsys.readouterr()
        assert main(["eval", "alerts", "--events", str(events), "--truth", str(truth)]) == 0
        assert "F1" in capsys.readouterr().out
        report = tmp_path / "report"
        assert main(["report", "--alerts", str(alerts), "--enriched", str(enriched), "--out", str(report)]) == 0
        assert (report / "index.html").exists() and list(report.glob("*.png"))
