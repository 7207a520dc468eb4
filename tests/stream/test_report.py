"""`pricewatch report` on a small synthetic run: files written, alerts ranked, Chinese kept, fallback clean."""
from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone

import matplotlib.image
import pytest

from rules.errors import InvalidEventError
from stream.cli import main
from stream.report import cjk_font, load_jsonl, write_report

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _ts(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def _listing(product_id, generic_name, manufacturer, dosage_form, price, daily_cost, *, hour, region="GD-SZ",
             event_type="listing"):
    return {
        "event_id": f"{product_id}-{region}-{hour}", "event_type": event_type, "ts": _ts(hour),
        "product_id": product_id, "region": region, "generic_name": generic_name, "manufacturer": manufacturer,
        "dosage_form": dosage_form, "price": price, "determinable": True, "method": "rules",
        "daily_cost": None if daily_cost is None else [daily_cost * 0.9, daily_cost * 1.1],
    }


def _alert(product_id, generic_name, alert_type, severity, score, *, hour, daily_cost=2.0, region="GD-SZ",
           explanation="日费用明显高于同通用名同剂型的其他企业产品"):
    return {
        "alert_id": f"{product_id}-{alert_type}-{hour}", "event_id": f"{product_id}-{region}-{hour}", "ts": _ts(hour),
        "product_id": product_id, "region": region, "generic_name": generic_name, "manufacturer": "某某制药有限公司",
        "type": alert_type, "severity": severity, "score": score, "daily_cost": daily_cost,
        "reference": {"peer_median": 1.0}, "explanation": explanation,
    }


@pytest.fixture
def run_records():
    """Two peer groups of tablets and capsules, one product whose price jumps twice, one peer outlier."""
    enriched = []
    for i in range(6):
        enriched.append(_listing(f"YX{i}", "银杏叶片", f"厂家{i}", "片剂", 20 + i, 1.0 + 0.1 * i, hour=i))
        enriched.append(_listing(f"AQ{i}", "阿奇霉素胶囊", f"药企{i}", "胶囊剂", 15 + i, 3.0 + 0.2 * i, hour=i))
    enriched.append(_listing("YX9", "银杏叶片", "高价药业", "片剂", 95, 9.5, hour=7))  # the outlier
    for hour, price in ((10, 26.0), (20, 40.0), (30, 80.0)):  # YX1 reprices upward
        enriched.append(_listing("YX1", "银杏叶片", "厂家1", "片剂", price, price / 20, hour=hour,
                                 event_type="price_change"))
    enriched.append(_listing("YX1", "银杏叶片", "厂家1", "片剂", 21, 1.05, hour=2, region="BJ"))
    enriched.append(_listing("NOCOST", "维生素C片", "厂家", "片剂", 5, None, hour=3))  # not costable: no group
    alerts = [
        _alert("YX9", "银杏叶片", "peer_outlier", "critical", 3.2, hour=7, daily_cost=9.5,
               explanation="日费用9.5元，是同组中位数1.2元的7.9倍"),
        _alert("YX1", "银杏叶片", "price_jump", "high", 2.1, hour=20, daily_cost=2.0,
               explanation="单次提价54%，远超该产品以往调价幅度"),
        _alert("YX1", "银杏叶片", "price_jump", "critical", 2.9, hour=30, daily_cost=4.0,
               explanation="单次提价100%"),
        _alert("YX1", "银杏叶片", "cross_region_gap", "medium", 1.5, hour=30, daily_cost=4.0,
               explanation="同一产品在GD-SZ的价格是BJ的3.8倍"),
        _alert("AQ3", "阿奇霉素胶囊", "dose_outlier", "low", 0.8, hour=3, daily_cost=3.6,
               explanation="提取的日剂量与同组差异很大，请复核说明书"),
    ]
    return alerts, enriched


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


class TestWriteReport:
    def test_writes_every_plot_as_a_png_and_links_it(self, run_records, tmp_path):
        alerts, enriched = run_records
        files = write_report(alerts, enriched, tmp_path / "out")
        assert files.plots == ["alerts_by_type.png", "peer_groups.png", "price_1.png", "price_2.png", "price_3.png"]
        page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
        for name in files.plots:
            data = (tmp_path / "out" / name).read_bytes()
            assert data.startswith(PNG_MAGIC) and len(data) > 10_000
            assert f'src="{name}"' in page

    def test_most_alerted_product_is_plotted_first_ties_by_id(self, run_records, tmp_path):
        alerts, enriched = run_records
        write_report(alerts, enriched, tmp_path)
        page = (tmp_path / "index.html").read_text(encoding="utf-8")
        assert page.index("<h3>YX1") < page.index("<h3>AQ3") < page.index("<h3>YX9")
        assert "(3 alerts)" in page

    def test_alert_table_is_ranked_by_severity_then_score_with_chinese_explanations(self, run_records, tmp_path):
        alerts, enriched = run_records
        write_report(alerts, enriched, tmp_path, top_alerts=3)
        page = (tmp_path / "index.html").read_text(encoding="utf-8")
        table = page[page.index("<table>"):]
        assert table.count("<tr><td>") == 3
        assert table.index("是同组中位数1.2元的7.9倍") < table.index("单次提价100%") < table.index("单次提价54%")
        assert "请复核说明书" not in table  # the low-severity alert fell below the cut

    def test_peer_groups_are_named_in_the_html(self, run_records, tmp_path):
        alerts, enriched = run_records
        write_report(alerts, enriched, tmp_path)
        page = (tmp_path / "index.html").read_text(encoding="utf-8")
        assert "<b>G1</b> 银杏叶片 · 片剂" in page  # the group with an alert comes first
        assert "阿奇霉素胶囊 · 胶囊剂" in page
        assert "维生素C片" not in page  # no daily cost, no peer group, no alert

    def test_html_escapes_record_text(self, run_records, tmp_path):
        alerts, enriched = run_records
        alerts[0]["explanation"] = "<script>alert(1)</script>"
        write_report(alerts, enriched, tmp_path)
        page = (tmp_path / "index.html").read_text(encoding="utf-8")
        assert "<script>" not in page and "&lt;script&gt;" in page

    def test_ascii_fallback_draws_no_missing_glyphs(self, run_records, tmp_path):
        alerts, enriched = run_records
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font")  # "Glyph ... missing from font(s)"
            files = write_report(alerts, enriched, tmp_path, font=None)
        assert files.cjk_font is None
        assert "No CJK font" in (tmp_path / "index.html").read_text(encoding="utf-8")

    @pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed (apt-get install fonts-noto-cjk)")
    def test_cjk_font_draws_chinese_labels_without_missing_glyphs(self, run_records, tmp_path):
        alerts, enriched = run_records
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font")
            files = write_report(alerts, enriched, tmp_path)
        assert files.cjk_font
        assert "No CJK font" not in (tmp_path / "index.html").read_text(encoding="utf-8")

    def test_peer_group_plot_grows_with_the_groups_shown(self, run_records, tmp_path):
        alerts, enriched = run_records
        write_report(alerts, enriched, tmp_path / "one", max_groups=1)
        write_report(alerts, enriched, tmp_path / "two", max_groups=2)
        one = matplotlib.image.imread(tmp_path / "one" / "peer_groups.png")
        two = matplotlib.image.imread(tmp_path / "two" / "peer_groups.png")
        assert two.shape[0] > one.shape[0]

    def test_empty_run_still_writes_a_report(self, tmp_path):
        files = write_report([], [], tmp_path)
        assert files.plots == ["alerts_by_type.png", "peer_groups.png"]
        assert "0 alerts" in (tmp_path / "index.html").read_text(encoding="utf-8")


class TestCommand:
    def test_report_command_writes_the_folder(self, run_records, tmp_path, capsys):
        alerts, enriched = run_records
        code = main(["report", "--alerts", str(_write_jsonl(tmp_path / "alerts.jsonl", alerts)),
                     "--enriched", str(_write_jsonl(tmp_path / "enriched.jsonl", enriched)),
                     "--out", str(tmp_path / "report"), "--top-products", "1"])
        assert code == 0
        assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
            "alerts_by_type.png", "index.html", "peer_groups.png", "price_1.png"]
        assert "5 alerts" in capsys.readouterr().out

    def test_bad_input_line_is_reported_with_its_line_number(self, tmp_path, capsys):
        bad = tmp_path / "alerts.jsonl"
        bad.write_text('{"type": "price_jump"}\n\nnot json\n', encoding="utf-8")
        code = main(["report", "--alerts", str(bad), "--enriched", str(bad), "--out", str(tmp_path / "r")])
        assert code == 2
        assert f"{bad}:3" in capsys.readouterr().err


class TestLoadJsonl:
    def test_skips_blank_lines(self, tmp_path):
        path = tmp_path / "x.jsonl"
        path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
        assert load_jsonl(path) == [{"a": 1}, {"a": 2}]

    def test_rejects_a_line_that_is_not_an_object(self, tmp_path):
        path = tmp_path / "x.jsonl"
        path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
        with pytest.raises(InvalidEventError, match=":2: expected a JSON object"):
            load_jsonl(path)
