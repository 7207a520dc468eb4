"""The whole path on real Apache Kafka: a real worker process, real topics, real Redis."""
from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict

import pytest
import redis

from stream.admin import ensure_topics
from stream.replay import run_replay
from stream.workerproc import WorkerProcess
from tests.stream import feeds
from tests.stream.kafka_helpers import TopicReader, delete_all_topics, produce, wait_until

CONTRACT_TOPICS = ("drug.listings", "drug.price-changes", "drug.enriched", "price.alerts", "drug.deadletter")
pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.slow]


def _worker(kafka_broker, redis_server, tmp_path, *, partitions: int, app_id: str | None = None) -> WorkerProcess:
    # Create the contract topics first: a test consumer subscribing earlier would auto-create them with 1 partition.
    ensure_topics(kafka_broker.bootstrap, CONTRACT_TOPICS, partitions=partitions)
    return WorkerProcess(
        f"kafka://{kafka_broker.bootstrap}",
        env={"PW_APP_ID": app_id or f"pw-{uuid.uuid4().hex[:8]}", "PW_PARTITIONS": str(partitions),
             "PW_REDIS_URL": redis_server.url, "PW_WEB_ENABLED": "false", "PW_PARKED_GRACE_S": "3"},
        log_path=tmp_path / "worker.log",
    )


@pytest.fixture(autouse=True)
def empty_topics(kafka_broker):
    """The contract fixes the topic names, so each test starts from none (a new app would re-read old input)."""
    delete_all_topics(kafka_broker.bootstrap)
    yield


def _ids(records, field="event_id"):
    return {r.get(field) for r in records}


class TestEndToEnd:
    def test_listings_prices_and_malformed_inputs(self, kafka_broker, redis_server, tmp_path):
        run = uuid.uuid4().hex[:6]  # topics are shared across tests: tag this test's events
        listings = _tagged(feeds.listings_feed(), run)
        prices = _tagged(feeds.price_feed(), run)
        malformed = {kind: _tagged([item], run)[0] for kind, item in feeds.MALFORMED.items()}
        worker = _worker(kafka_broker, redis_server, tmp_path, partitions=2).start()
        enriched, alerts, dead = (TopicReader(kafka_broker.bootstrap, t)
                                  for t in ("drug.enriched", "price.alerts", "drug.deadletter"))
        try:
            produce(kafka_broker.bootstrap, listings)
            wait_until(lambda: _ids(listings_of(enriched.poll(), run)) >= _ids(v["value"] for v in listings),
                       timeout=120, what="the listings to be enriched", on_timeout=worker.log_tail)
            produce(kafka_broker.bootstrap, prices + list(malformed.values()))
            wanted_dead = len(malformed)
            wait_until(lambda: len(listings_of(enriched.poll(), run)) >= len(listings) + len(prices)
                       and len([d for d in dead.poll() if run in (d.get("original") or "") or
                                d.get("key", "").startswith(run)]) >= wanted_dead,
                       timeout=120, what="price changes and dead-letters", on_timeout=worker.log_tail)
        finally:
            worker.stop()

        got = {r["event_id"]: r for r in listings_of(enriched.records, run)}
        tablet = got[f"{run}L1"]
        assert tablet["determinable"] is True and tablet["daily"] == [6.0, 6.0] and tablet["unit"] == "片"
        assert tablet["unit_price"] == pytest.approx(0.5) and tablet["daily_cost"] == pytest.approx([3.0, 3.0])
        jump = got[f"{run}C2"]
        assert jump["event_type"] == "price_change" and jump["prev_price"] == 12.5
        assert jump["daily_cost"] == pytest.approx([6.5, 6.5])

        mine = [a for a in alerts.poll() if a["event_id"].startswith(run)]
        jumps = [a for a in mine if a["event_id"] == f"{run}C2" and a["type"] == "price_jump"]
        assert jumps, f"no price_jump for the doubled price; alerts: {mine}"
        assert jumps[0]["reference"] and jumps[0]["explanation"]
        assert not [a for a in mine if a["event_id"] == f"{run}C3"], "a price cut raised an alert"

        reasons = defaultdict(list)
        for record in dead.records:
            reasons[record["reason"]].append(record)
        for kind in feeds.MALFORMED:
            reason = feeds.EXPECTED_REASON.get(kind, kind)
            assert any(_mentions(r, run) for r in reasons[reason]), f"no dead-letter with reason {reason} ({kind})"
        undecodable = next(r for r in reasons["undecodable"] if _mentions(r, run))
        assert undecodable["encoding"] == "base64" and undecodable["source_topic"] == "drug.listings"
        assert undecodable["source_offset"] is not None

        stream = redis.Redis.from_url(redis_server.url).xrange("pricewatch:alerts")
        in_redis = {json.loads(fields[b"alert"])["alert_id"] for _, fields in stream}
        assert {a["alert_id"] for a in mine} <= in_redis
        for reader in (enriched, alerts, dead):
            reader.close()


def listings_of(records, run):
    return [r for r in records if str(r.get("event_id", "")).startswith(run)]


def _mentions(record, run) -> bool:
    return run in (record.get("original") or "") or str(record.get("key") or "").startswith(run)


def _tagged(items, run):
    """Prefix ids with the run tag so tests sharing the broker never read each other's events."""
    out = []
    for item in items:
        item = dict(item)
        if isinstance(item.get("value"), dict):
            value = dict(item["value"])
            for field in ("event_id", "product_id"):
                if field in value:
                    value[field] = run + value[field]
            item["value"] = value
        elif isinstance(item.get("value"), str):
            item["value"] = item["value"].replace('"event_id": "', f'"event_id": "{run}').replace(
                '"product_id": "', f'"product_id": "{run}')
        if item.get("key"):
            item["key"] = run + item["key"]
        out.append(item)
    return out


def _read_all(kafka_broker, topic, until, *, timeout, worker=None, what=""):
    reader = TopicReader(kafka_broker.bootstrap, topic)
    try:
        wait_until(lambda: until(reader.poll()), timeout=timeout, what=what or topic,
                   on_timeout=worker.log_tail if worker else str)
        return reader.records
    finally:
        reader.close()


def _canonical(alerts):
    return {a["alert_id"]: json.dumps(a, sort_keys=True, ensure_ascii=False) for a in alerts}


class TestReplayAgreesWithTheStream:
    def test_same_alerts_of_every_type_for_the_simulated_feed(self, kafka_broker, redis_server, tmp_path):
        from itertools import groupby

        from rules.alerts import ALERT_TYPES
        from stream.simulator import simulate

        feed = simulate(seed=3, n_groups=30).events
        expected = run_replay(feed)
        assert {a["type"] for a in expected.alerts} == set(ALERT_TYPES), "the feed should raise every type"
        # One partition, and each run of same-topic events is processed before the next is sent:
        # the worker then sees the feed in file order, as replay does (two topics are otherwise
        # read side by side, in no fixed order).
        with _worker(kafka_broker, redis_server, tmp_path, partitions=1) as worker:
            enriched = TopicReader(kafka_broker.bootstrap, "drug.enriched")
            sent = 0
            for _, chunk in groupby(feed, key=lambda item: item["topic"]):
                sent += produce(kafka_broker.bootstrap, list(chunk))
                wait_until(lambda: len(enriched.poll()) >= sent, timeout=120, what=f"{sent} events enriched",
                           on_timeout=worker.log_tail)
            enriched.close()
            streamed = _read_all(kafka_broker, "price.alerts", lambda r: len(r) >= len(expected.alerts),
                                 timeout=60, worker=worker, what="alerts")
        assert _canonical(streamed) == _canonical(expected.alerts)


class TestCrashRecovery:
    # KNOWN DEFECT, open in issue #2: in about one run in five (more under load) a few price
    # changes of the last moments before the SIGKILL come out neither enriched nor dead-lettered
    # after the restart. Not explained yet (per-event acks and batch acks both show it); the test
    # stays, reporting XPASS when the run is clean, so the loss is visible rather than hidden.
    def test_sigkill_mid_stream_loses_nothing_and_never_changes_an_alert(self, kafka_broker, redis_server, tmp_path):
        feed = feeds.bulk_feed(n_products=150, n_changes=2500, seed=5, jump_every=20)
        feed += list(feeds.MALFORMED.values())
        wanted = {i["value"]["event_id"] for i in feed if isinstance(i.get("value"), dict)}
        app_id = f"pw-crash-{uuid.uuid4().hex[:6]}"
        worker = _worker(kafka_broker, redis_server, tmp_path, partitions=3, app_id=app_id).start()
        enriched = TopicReader(kafka_broker.bootstrap, "drug.enriched")
        try:
            produce(kafka_broker.bootstrap, feed)
            wait_until(lambda: len(enriched.poll()) >= 400, timeout=120, what="the worker to get going",
                       on_timeout=worker.log_tail)
            worker.kill()  # SIGKILL: no commit, no flush, no goodbye
            assert len(enriched.poll()) < len(feed), "the worker finished before the kill; make the feed longer"
            worker = _worker(kafka_broker, redis_server, tmp_path, partitions=3, app_id=app_id).start()
            dead = TopicReader(kafka_broker.bootstrap, "drug.deadletter")
            def missing() -> str:
                lost = sorted(wanted - _ids(enriched.records) - _ids(dead.records))
                return f"{len(lost)} events neither enriched nor dead-lettered: {lost[:20]}\n{worker.log_tail()}"

            wait_until(lambda: _ids(enriched.poll()) | _ids(dead.poll()) >= wanted
                       and len(dead.records) >= len(feeds.MALFORMED),
                       timeout=240, what="every event enriched or dead-lettered after the restart",
                       on_timeout=missing, worker=worker)
            alerts = _read_all(kafka_broker, "price.alerts", lambda r: len(r) > 0, timeout=30, worker=worker)
        finally:
            worker.stop()
        versions = defaultdict(set)
        for alert in alerts:
            versions[alert["alert_id"]].add(json.dumps(alert, sort_keys=True, ensure_ascii=False))
        changed = {k: v for k, v in versions.items() if len(v) > 1}
        assert not changed, f"alert ids emitted twice with different content: {list(changed.items())[:2]}"
        jumps = {a["event_id"] for a in alerts if a["type"] == "price_jump"}
        assert jumps, "the doublings in the feed raised no price_jump"


class TestRestartKeepsPeerGroups:
    def test_peer_state_survives_a_restart(self, kafka_broker, redis_server, tmp_path):
        peers = [feeds.listing(f"R{i}", f"RP{i}", price=12.0 + i * 0.2, manufacturer=f"厂{i}") for i in range(8)]
        outlier = feeds.listing("R-out", "RP-out", price=80.0, manufacturer="高价厂")
        expected = run_replay(peers + [outlier]).alerts
        assert any(a["type"] == "peer_outlier" and a["event_id"] == "R-out" for a in expected)
        app_id = f"pw-restart-{uuid.uuid4().hex[:6]}"
        with _worker(kafka_broker, redis_server, tmp_path, partitions=2, app_id=app_id) as worker:
            produce(kafka_broker.bootstrap, peers)
            _read_all(kafka_broker, "drug.enriched", lambda r: len(r) >= len(peers), timeout=120, worker=worker)
            time.sleep(3)  # let the group stage and its changelog catch up before the stop
        with _worker(kafka_broker, redis_server, tmp_path, partitions=2, app_id=app_id) as worker:
            produce(kafka_broker.bootstrap, [outlier])
            alerts = _read_all(kafka_broker, "price.alerts",
                               lambda r: any(a["event_id"] == "R-out" for a in r), timeout=120, worker=worker,
                               what="the outlier's alert after the restart")
        assert any(a["type"] == "peer_outlier" and a["event_id"] == "R-out" for a in alerts)
