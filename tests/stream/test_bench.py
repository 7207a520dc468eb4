"""`pricewatch bench --quick --json` end to end on the session's Apache Kafka: it runs and reports every figure.

No timing is asserted here (the machine is shared and small); the figures themselves are
`pricewatch bench`'s business and go to docs/BENCHMARKS.md.
"""
from __future__ import annotations

import json

import pytest

from stream.benchmarks.pipeline import BenchSizes, bench_listings, bench_price_changes, percentile
from stream.benchmarks.report import format_report, summarise
from stream.cli import main
from tests.stream.kafka_helpers import delete_all_topics

HEADLINE = ("bare_events_per_s", "pipeline_events_per_s", "ratio", "latency_p50_ms", "latency_p99_ms",
            "worker_peak_rss_mb")
COMPONENTS = ("extract_us_per_event", "detect_us_per_event")


@pytest.mark.kafka
@pytest.mark.slow
def test_quick_json_reports_every_figure(kafka_broker, capsys):
    delete_all_topics(kafka_broker.bootstrap)  # the bench's fresh consumer group must not re-read other tests' input
    assert main(["bench", "--quick", "--json", "--broker", kafka_broker.url]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in HEADLINE + COMPONENTS:
        assert isinstance(summary[key], (int, float)) and summary[key] > 0, (key, summary[key])
    stream = summary["details"]["stream"]
    assert stream["latency"]["received"] == stream["latency"]["sent"] == 3_000
    assert stream["bare"]["events"] == stream["throughput"]["events"] == BenchSizes.quick().events
    assert summary["products_in_state"] == BenchSizes.quick().products
    assert summary["worker_peak_rss_mb"] >= summary["worker_rss_with_state_mb"]
    assert summary["ratio"] == pytest.approx(summary["pipeline_events_per_s"] / summary["bare_events_per_s"], rel=1e-2)
    targets = {t["key"]: t for t in summary["targets"]}
    assert set(targets) == {"ratio", "latency_p99_ms", "worker_peak_rss_mb"}
    assert targets["worker_peak_rss_mb"]["met"] is None, "a quick run holds too few products to judge memory"
    table = format_report(summary)
    assert "pipeline / bare" in table and "n/a" in table


def test_price_changes_follow_their_products():
    listings = bench_listings(10, "run")
    products = {json.loads(value)["product_id"]: json.loads(value) for _, value in listings}
    assert len(products) == 10
    changes = [json.loads(value) for _, value in bench_price_changes(listings, 100, "t")]
    assert all(c["product_id"] in products and c["region"] == products[c["product_id"]]["region"] for c in changes)
    prices = {pid: p["price"] for pid, p in products.items()}
    moves = []
    for change in changes:
        moves.append(change["new_price"] / prices[change["product_id"]])
        prices[change["product_id"]] = change["new_price"]
    jumps = [i for i, move in enumerate(moves) if move > 1.5]
    assert jumps == [24, 49, 74, 99]  # every 25th change doubles a price: the alert path runs in the benchmark
    assert all(0.95 < move < 1.05 for i, move in enumerate(moves) if i not in jumps)


def test_summary_without_a_broker_run_has_no_stream_targets():
    summary = summarise(detect={"us_per_event": 12.5}, machine={"cpu": "x", "cores": 1, "memory_gib": 1,
                                                                "load_avg_1m": 0.0, "python": "3"})
    assert summary["targets"] == [] and "bare_events_per_s" not in summary
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0
