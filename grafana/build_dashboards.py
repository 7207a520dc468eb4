"""Writes the two provisioned Grafana dashboards (grafana/dashboards/*.json) from the panel lists below.

The JSON is committed (Grafana reads it as is); edit this file and re-run
`python grafana/build_dashboards.py` to change a panel. tests/stream/test_deploy_files.py checks that the
committed JSON is what this script writes, that every query parses, and that it names only metrics the
worker defines.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["DASHBOARDS", "build", "main"]

DATASOURCE = {"type": "prometheus", "uid": "pricewatch-prom"}
DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
RATE = "$__rate_interval"
WORKER = 'job="pricewatch"'
# A counter the worker has not incremented yet has no series; `or vector(0)` makes that a 0, not "No data".
LLM_ERRORS = f"(sum(rate(pricewatch_llm_errors_total[{RATE}])) or vector(0))"


def quantile(q: float, metric: str, *, by: str = "", matchers: str = "") -> str:
    """PromQL for the q-quantile of a histogram, aggregated over everything but `le` and `by`."""
    keep = ", ".join(["le", *filter(None, [by])])
    return f"histogram_quantile({q}, sum by ({keep}) (rate({metric}_bucket{{{matchers}}}[{RATE}])))"


def target(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False, fmt: str = "time_series") -> dict:
    return {
        "datasource": DATASOURCE, "refId": ref, "expr": expr, "legendFormat": legend or "__auto",
        "range": not instant, "instant": instant, "format": fmt, "editorMode": "code",
    }


def panel(kind: str, title: str, targets: list[dict], *, w: int = 12, h: int = 8, description: str = "",
          unit: str = "short", options: dict | None = None, custom: dict | None = None) -> dict:
    for ref, t in zip("ABCDEFGH", targets):
        t["refId"] = ref
    return {
        "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
        "targets": targets, "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom or {}}, "overrides": []},
        "options": options or {},
    }


def timeseries(title: str, *targets: dict, stacked: bool = False, bars: bool = False, **kw: Any) -> dict:
    custom = {"drawStyle": "bars" if bars else "line", "fillOpacity": 60 if bars else 10,
              "stacking": {"mode": "normal" if stacked else "none", "group": "A"}}
    options = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel("timeseries", title, list(targets), custom=custom, options=options, **kw)


def stat(title: str, expr: str, **kw: Any) -> dict:
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    return panel("stat", title, [target(expr)], w=kw.pop("w", 4), h=kw.pop("h", 4), options=options, **kw)


def heatmap(title: str, expr: str, **kw: Any) -> dict:
    options = {"calculate": False, "yAxis": {"unit": kw.get("unit", "short")},
               "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
               "cellGap": 1, "tooltip": {"mode": "single", "yHistogram": True}}
    return panel("heatmap", title, [target(expr, "{{le}}", fmt="heatmap")], options=options, **kw)


def bars_now(title: str, expr: str, legend: str, **kw: Any) -> dict:
    """Totals over the dashboard's time range as horizontal bars, one per series."""
    options = {"orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True,
               "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    return panel("bargauge", title, [target(expr, legend, instant=True)], options=options, **kw)


def table(title: str, expr: str, *, value_name: str = "value", **kw: Any) -> dict:
    result = panel("table", title, [target(expr, instant=True, fmt="table")], **kw)
    result["transformations"] = [
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": {"Value": value_name}}},
        {"id": "sortBy", "options": {"sort": [{"field": value_name, "desc": True}]}},
    ]
    return result


PIPELINE_HEALTH = {
    "uid": "pricewatch-pipeline",
    "title": "pricewatch · pipeline health",
    "description": "Is the worker keeping up: throughput, lag, latency, dead letters, LLM and extraction.",
    "panels": [
        stat("Workers up", f"sum(up{{{WORKER}}})", description="Worker processes Prometheus scrapes successfully."),
        stat("Events in / s", f"sum(rate(pricewatch_events_in_total[{RATE}]))", unit="ops"),
        stat("Consumer lag (messages)", "sum(pricewatch_consumer_lag)",
             description="End offset minus committed offset, all input topics and partitions."),
        stat("p99 end-to-end latency", quantile(0.99, "pricewatch_end_to_end_latency_seconds"), unit="s"),
        stat("Dead letters in range", "sum(increase(pricewatch_deadletters_total[$__range])) or vector(0)"),
        stat("LLM error share", f"{LLM_ERRORS} / (sum(rate(pricewatch_llm_latency_seconds_count[{RATE}])) + {LLM_ERRORS})",
             unit="percentunit", description="LLM answers not used (request failed, bad answer, ungrounded) per "
             "LLM answer; empty while the LLM is not used."),
        timeseries("Throughput in, by topic",
                   target(f"sum by (topic) (rate(pricewatch_events_in_total[{RATE}]))", "{{topic}}"), unit="ops"),
        timeseries("Throughput out, by topic",
                   target(f"sum by (topic) (rate(pricewatch_events_out_total[{RATE}]))", "{{topic}}"), unit="ops"),
        timeseries("Consumer lag, by topic",
                   target("sum by (topic) (pricewatch_consumer_lag)", "{{topic}}"),
                   description="Growing lag means the worker is slower than the producers."),
        timeseries("End-to-end latency (Kafka arrival to outputs sent)",
                   target(quantile(0.5, "pricewatch_end_to_end_latency_seconds"), "p50"),
                   target(quantile(0.99, "pricewatch_end_to_end_latency_seconds"), "p99"), unit="s"),
        timeseries("Dead letters, by reason",
                   target(f"sum by (reason) (increase(pricewatch_deadletters_total[{RATE}]))", "{{reason}}"),
                   stacked=True, bars=True, description="Nothing is dropped silently: every failure lands here."),
        timeseries("LLM latency",
                   target(quantile(0.5, "pricewatch_llm_latency_seconds"), "p50"),
                   target(quantile(0.99, "pricewatch_llm_latency_seconds"), "p99"), unit="s"),
        timeseries("LLM requests and errors",
                   target(f"sum(rate(pricewatch_llm_latency_seconds_count[{RATE}]))", "requests"),
                   target(f"sum by (kind) (rate(pricewatch_llm_errors_total[{RATE}]))", "error: {{kind}}"),
                   unit="reqps"),
        timeseries("Extraction method mix",
                   target(f"sum by (method) (rate(pricewatch_extractions_total[{RATE}]))", "{{method}}"),
                   stacked=True, unit="ops", description="rules, llm, or cache (a remembered LLM answer)."),
        timeseries("Determinable share, by method",
                   target(f'sum by (method) (rate(pricewatch_extractions_total{{determinable="true"}}[{RATE}])) / '
                          f"sum by (method) (rate(pricewatch_extractions_total[{RATE}]))", "{{method}}"),
                   unit="percentunit"),
        heatmap("Extraction confidence",
                f"sum by (le) (increase(pricewatch_extraction_confidence_bucket[{RATE}]))"),
        timeseries("Mean extraction confidence, by method",
                   target(f"sum by (method) (rate(pricewatch_extraction_confidence_sum[{RATE}])) / "
                          f"sum by (method) (rate(pricewatch_extraction_confidence_count[{RATE}]))", "{{method}}"),
                   unit="percentunit"),
        timeseries("Worker CPU",
                   target(f"rate(process_cpu_seconds_total{{{WORKER}}}[{RATE}])", "{{instance}}"),
                   w=6, unit="percentunit"),
        timeseries("Worker memory (RSS)",
                   target(f"process_resident_memory_bytes{{{WORKER}}}", "{{instance}}"), w=6, unit="bytes"),
        # Faust's own sensor (faust.sensors.prometheus), under the fixed prefix pricewatch (stream/agents.py).
        timeseries("Kafka produce and commit latency",
                   target(quantile(0.99, "pricewatch_producer_send_latency"), "send p99"),
                   target(quantile(0.99, "pricewatch_consumer_commit_latency"), "commit p99"), w=8, unit="s",
                   description="Faust's sensor: how long the broker takes to take a message and to commit "
                               "offsets (the agents work in batches, so Faust's per-event runtime is not kept)."),
        timeseries("Table operations",
                   target(f"sum by (table, operation) (rate(pricewatch_table_operations_total[{RATE}]))",
                          "{{table}} {{operation}}"), w=8, unit="ops"),
        timeseries("Rebalances",
                   target(f"sum(pricewatch_total_rebalances{{{WORKER}}})", "rebalances"),
                   target(f"sum(pricewatch_total_rebalances_recovering{{{WORKER}}})", "recovering"), w=8,
                   description="Consumer-group rebalances since start; a rising line means workers keep leaving."),
    ],
}

DOSAGE_FORM = 'dosage_form=~"$dosage_form"'
PRICE_SURVEILLANCE = {
    "uid": "pricewatch-prices",
    "title": "pricewatch · price surveillance",
    "description": "What the detectors find: alerts by type and severity, the most-alerted products, daily costs.",
    "variables": [{
        "name": "dosage_form", "label": "剂型 dosage form",
        "query": "label_values(pricewatch_daily_cost_cny_bucket, dosage_form)",
    }],
    "panels": [
        stat("Alerts in range", "sum(increase(pricewatch_alerts_total[$__range])) or vector(0)", w=6),
        stat("Critical alerts in range", 'sum(increase(pricewatch_alerts_total{severity="critical"}[$__range])) or vector(0)', w=6),
        stat("Alerts per 1000 events", f"1000 * (sum(rate(pricewatch_alerts_total[{RATE}])) or vector(0)) / "
             f"sum(rate(pricewatch_events_in_total[{RATE}]))", w=6),
        stat("Events in range", "sum(increase(pricewatch_events_in_total[$__range]))", w=6),
        timeseries("Alerts over time, by type",
                   target(f"sum by (type) (increase(pricewatch_alerts_total[{RATE}]))", "{{type}}"),
                   stacked=True, bars=True),
        timeseries("Alerts over time, by severity",
                   target(f"sum by (severity) (increase(pricewatch_alerts_total[{RATE}]))", "{{severity}}"),
                   stacked=True, bars=True),
        bars_now("Alerts in range, by type and severity",
                 "sort_desc(sum by (type, severity) (increase(pricewatch_alerts_total[$__range])))",
                 "{{type}} · {{severity}}"),
        table("Top products by alerts", "topk(20, sum by (product_id, generic_name) (pricewatch_top_product_alerts))",
              description="Approximate alert counts since the workers started, top 20 per worker "
                          "(bounded series; see stream/metrics_extra.py).", value_name="alerts"),
        heatmap("Daily cost distribution (CNY/day), selected dosage forms",
                f"sum by (le) (increase(pricewatch_daily_cost_cny_bucket{{{DOSAGE_FORM}}}[{RATE}]))", unit="short"),
        timeseries("Median daily cost, by dosage form",
                   target(quantile(0.5, "pricewatch_daily_cost_cny", by="dosage_form", matchers=DOSAGE_FORM),
                          "{{dosage_form}}"), unit="currencyCNY"),
        bars_now("Daily cost p90 over range, by dosage form",
                 f"sort_desc(histogram_quantile(0.9, sum by (le, dosage_form) "
                 f"(increase(pricewatch_daily_cost_cny_bucket{{{DOSAGE_FORM}}}[$__range]))))",
                 "{{dosage_form}}", unit="currencyCNY"),
        bars_now("Enriched events in range, by dosage form",
                 f"sort_desc(sum by (dosage_form) (increase(pricewatch_daily_cost_cny_count{{{DOSAGE_FORM}}}[$__range])))",
                 "{{dosage_form}}"),
    ],
}

DASHBOARDS = {"pipeline-health.json": PIPELINE_HEALTH, "price-surveillance.json": PRICE_SURVEILLANCE}


def _layout(panels: list[dict]) -> list[dict]:
    """Ids and grid positions, left to right then down, in list order."""
    x = y = row_height = 0
    for panel_id, p in enumerate(panels, start=1):
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24:
            x, y, row_height = 0, y + row_height, 0
        p["id"], p["gridPos"] = panel_id, {"x": x, "y": y, "w": w, "h": h}
        x, row_height = x + w, max(row_height, h)
    return panels


def _variable(spec: dict) -> dict:
    return {
        "name": spec["name"], "label": spec["label"], "type": "query", "datasource": DATASOURCE,
        "query": {"query": spec["query"], "refId": "variable"}, "definition": spec["query"],
        "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2, "sort": 1,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    }


def build(spec: dict) -> dict:
    """The Grafana dashboard JSON model for one spec above."""
    return {
        "uid": spec["uid"], "title": spec["title"], "description": spec["description"],
        "tags": ["pricewatch"], "timezone": "browser", "editable": False, "schemaVersion": 39,
        "version": 1, "refresh": "10s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [_variable(v) for v in spec.get("variables", [])]},
        "annotations": {"list": []}, "links": [],
        "panels": _layout(json.loads(json.dumps(spec["panels"]))),
    }


def render(spec: dict) -> str:
    return json.dumps(build(spec), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    for name, spec in DASHBOARDS.items():
        (DASHBOARD_DIR / name).write_text(render(spec), encoding="utf-8")
        print(f"wrote {DASHBOARD_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
