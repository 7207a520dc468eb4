"""Every Grafana panel query returns data from a real worker scraped by a real Prometheus.

A worker (rule path) gets a feed that moves every metric: listings, small price moves and
price jumps (alerts), and malformed messages (dead-letters), in waves a few scrapes apart so
that counters and histograms *change* while Prometheus watches (a series first scraped at its
final value has a rate of 0, and a histogram quantile over zero rates is NaN). Prometheus runs
with the deployed `prometheus/prometheus.yml` (its `pricewatch` job and rule files), pointed
at the worker and scraping every second. Then each expression of each dashboard panel must
return at least one non-NaN value.

The only panels excused are those that cannot have data when no LLM is asked (listed in
`NO_DATA_WITHOUT_LLM` with why); the errors-by-kind series need the labels pre-initialised
in `stream.metrics`, so that "no errors" shows as 0 rather than as a gap.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest
import yaml

from stream.admin import ensure_topics
from stream.services import REPO_ROOT, free_port
from stream.workerproc import WorkerProcess
from tests.stream import feeds
from tests.stream.kafka_helpers import TopicReader, delete_all_topics, produce, wait_until
from tests.stream.promql import panel_queries, panels_without_data, query

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.prometheus, pytest.mark.slow]

DASHBOARDS = sorted((REPO_ROOT / "grafana" / "dashboards").glob("*.json"))
CONTRACT_TOPICS = ("drug.listings", "drug.price-changes", "drug.enriched", "price.alerts", "drug.deadletter")
# (dashboard, panel title) -> why it has no data in a rule-path run. Keep this short.
NO_DATA_WITHOUT_LLM = {
    ("pipeline-health.json", "LLM error share"): "errors / (requests + errors) is 0/0 when the LLM is never asked",
    ("pipeline-health.json", "LLM latency"): "a quantile of a histogram with no observations is NaN",
}
# Faust names its own metrics after the app id; the dashboards read `pricewatch_*`.
APP_ID = "pricewatch"
# Long enough to cover the whole test, so every rate sees the waves of the feed.
INTERVALS = {"__rate_interval": "10m", "__interval": "10m", "__range": "10m"}


def _prometheus_config(tmp_path: Path, target: str) -> Path:
    """The deployed prometheus.yml, with its rule files, scraping only our worker, every second."""
    deployed = REPO_ROOT / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(deployed.read_text(encoding="utf-8"))
    config["global"] = {**config.get("global", {}), "scrape_interval": "1s", "evaluation_interval": "1s"}
    jobs = [job for job in config["scrape_configs"] if job["job_name"] == "pricewatch"]
    assert jobs, "prometheus/prometheus.yml has no pricewatch job"
    jobs[0]["static_configs"] = [{"targets": [target]}]
    config["scrape_configs"] = jobs
    for rule_file in config.get("rule_files", ()):
        shutil.copy(deployed.parent / rule_file, tmp_path / rule_file)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _waves() -> list[list[dict]]:
    """The feed in four waves: listings in two, price changes (jumps every 25th) in two, malformed in each."""
    feed = feeds.bulk_feed(n_products=60, n_changes=300, seed=5)
    listings = [item for item in feed if item["topic"] == "drug.listings"]
    changes = [item for item in feed if item["topic"] == "drug.price-changes"]
    malformed = list(feeds.MALFORMED.values())
    return [listings[:30] + malformed, listings[30:], changes[:150] + malformed, changes[150:]]


def test_every_dashboard_panel_has_data(kafka_broker, redis_server, prometheus_factory, tmp_path):
    assert DASHBOARDS, "no dashboards under grafana/dashboards"
    delete_all_topics(kafka_broker.bootstrap)  # the app id is the deployed one, so its topics must start empty
    ensure_topics(kafka_broker.bootstrap, CONTRACT_TOPICS, partitions=2)
    port = free_port()
    worker = WorkerProcess(
        kafka_broker.url, web_port=port, log_path=tmp_path / "worker.log",
        env={"PW_APP_ID": APP_ID, "PW_PARTITIONS": "2", "PW_REDIS_URL": redis_server.url,
             "PW_WEB_ENABLED": "true", "PW_EXTRACTION": "rules"})
    enriched = TopicReader(kafka_broker.bootstrap, "drug.enriched")
    with worker:
        assert worker.wait_for_metrics(120), f"the worker's /metrics never answered\n{worker.log_tail()}"
        prometheus = prometheus_factory(_prometheus_config(tmp_path, f"127.0.0.1:{port}"))
        wait_until(lambda: [r for r in query(prometheus.url, 'up{job="pricewatch"} == 1')], timeout=60,
                   what="Prometheus to scrape the worker", on_timeout=worker.log_tail)
        expected = 0
        for wave in _waves():
            produce(kafka_broker.bootstrap, wave)
            expected += len(_well_formed(wave))
            wait_until(lambda: len(enriched.poll()) >= expected, timeout=120,
                       what=f"{expected} enriched events", on_timeout=worker.log_tail)
            time.sleep(3)  # a few scrapes between waves: every counter is seen moving
        time.sleep(6)  # the consumer-lag timer (5 s) and the last scrapes
        missing = panels_without_data(prometheus.url, panel_queries(DASHBOARDS), intervals=INTERVALS)
        worker_metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    enriched.close()

    excused = [m for m in missing if (m[0], m[1]) in NO_DATA_WITHOUT_LLM]
    unexpected = [m for m in missing if (m[0], m[1]) not in NO_DATA_WITHOUT_LLM]
    assert not unexpected, "panels without data:\n" + "\n".join(
        f"  {dashboard} / {title}: {expr}  ({why})" for dashboard, title, expr, why in unexpected) + (
        "\n(pricewatch_llm_errors_total has no series: stream.metrics must pre-initialise its kinds)"
        if "pricewatch_llm_errors_total{" not in worker_metrics else "")
    # The excuses must still be true: if an excused panel gets data, drop it from the list.
    assert {(m[0], m[1]) for m in excused} == set(NO_DATA_WITHOUT_LLM), (
        f"excused panels that do have data now: {set(NO_DATA_WITHOUT_LLM) - {(m[0], m[1]) for m in excused}}")


def _well_formed(wave: list[dict]) -> list[dict]:
    """The items of a wave that come out on drug.enriched (not the malformed ones)."""
    malformed = {id(item) for item in feeds.MALFORMED.values()}
    return [item for item in wave if id(item) not in malformed]
