"""`pricewatch produce` and `pricewatch tail` against a real Kafka broker and redis-server."""
from __future__ import annotations

import base64
import json
import time

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer

from stream.cli import main


def _read(bootstrap: str, topic: str, count: int, timeout: float = 60.0) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    records = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    consumer.close()
    return records


def _alert(alert_id: str, **fields) -> dict:
    return {"alert_id": alert_id, "event_id": f"e-{alert_id}", "type": "price_jump", "severity": "high",
            "product_id": "P1", "region": "GD-SZ", "generic_name": "银杏叶片", "manufacturer": "甲药业",
            "score": 3.2, "explanation": "单次调价涨幅 108%，远超该品历史波动", **fields}


class TestProduce:
    def test_sends_good_lines_keyed_by_product_and_skips_bad_ones(self, kafka_broker, unique_name, tmp_path, capsys):
        listings, changes = unique_name("listings"), unique_name("changes")
        feed = tmp_path / "feed.jsonl"
        feed.write_text("\n".join([
            json.dumps({"topic": listings, "value": {"product_id": "P1", "generic_name": "银杏叶片", "price": 12.5}},
                       ensure_ascii=False),
            "{this is not json",
            json.dumps({"value": {"product_id": "P2"}}),  # no topic
            json.dumps({"topic": changes, "key": "K9", "value": {"product_id": "P1", "new_price": 26.0}}),
            json.dumps({"topic": changes, "value": "raw text, kept as is"}),
            json.dumps({"topic": changes, "value_b64": base64.b64encode(b"\xff\xfe").decode()}),
            "",
        ]) + "\n", encoding="utf-8")

        code = main(["produce", str(feed), "--broker", kafka_broker.url, "--quiet"])

        err = capsys.readouterr().err
        assert code == 0
        assert "sent 4, skipped 2 bad lines, failed 0" in err
        assert "line 2" in err and "line 3" in err
        [listing] = _read(kafka_broker.bootstrap, listings, 1)
        assert listing.key == b"P1"
        assert json.loads(listing.value.decode("utf-8"))["generic_name"] == "银杏叶片"
        assert "银杏叶片".encode() in listing.value  # UTF-8 on the wire, not \\u escapes
        rest = _read(kafka_broker.bootstrap, changes, 3)
        assert [(r.key, r.value) for r in rest] == [
            (b"K9", b'{"product_id": "P1", "new_price": 26.0}'),
            (None, b"raw text, kept as is"),
            (None, b"\xff\xfe"),
        ]

    def test_a_missing_file_or_broker_is_a_clear_error(self, tmp_path, capsys):
        assert main(["produce", str(tmp_path / "nope.jsonl"), "--broker", "kafka://127.0.0.1:9"]) == 2
        assert "cannot read" in capsys.readouterr().err
        feed = tmp_path / "feed.jsonl"
        feed.write_text('{"topic": "t", "value": {}}\n')
        assert main(["produce", str(feed), "--broker", "kafka://127.0.0.1:9", "--quiet"]) == 2
        assert "no Kafka broker answers at kafka://127.0.0.1:9" in capsys.readouterr().err


class TestTail:
    def test_prints_each_alert_once_readably(self, kafka_broker, unique_name, capsys):
        topic = unique_name("alerts")
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
        for alert in (_alert("a1"), _alert("a1"), _alert("a2", type="peer_outlier", severity="critical")):
            producer.send(topic, json.dumps(alert, ensure_ascii=False).encode())
        producer.send(topic, b"garbage")
        producer.flush(30)
        producer.close()

        code = main(["tail", "--broker", kafka_broker.url, "--topic", topic, "--from-beginning",
                     "--max", "3", "--timeout", "60"])

        lines = capsys.readouterr().out.splitlines()
        assert code == 0
        assert len(lines) == 3  # the duplicate a1 is shown once
        assert "high" in lines[0] and "price_jump" in lines[0] and "P1" in lines[0] and "GD-SZ" in lines[0]
        assert "涨幅 108%" in lines[0]
        assert "critical" in lines[1] and "peer_outlier" in lines[1]
        assert "not an alert record" in lines[2] and "garbage" in lines[2]

    def test_fewer_alerts_than_asked_for_is_exit_1(self, kafka_broker, unique_name, capsys):
        topic = unique_name("quiet")
        assert main(["tail", "--broker", kafka_broker.url, "--topic", topic, "--from-beginning",
                     "--max", "1", "--timeout", "2"]) == 1
        assert capsys.readouterr().out == ""

    def test_from_the_redis_stream_as_json(self, redis_server, unique_name, monkeypatch, capsys):
        stream = unique_name("pricewatch:alerts")
        monkeypatch.setenv("PW_ALERTS_STREAM", stream)
        client = redis.Redis.from_url(redis_server.url)
        for alert in (_alert("r1"), _alert("r2", region="BJ")):  # as stream/sinks.py writes them
            client.xadd(stream, {"alert_id": alert["alert_id"], "alert": json.dumps(alert, ensure_ascii=False)})

        code = main(["tail", "--from-redis", "--redis", redis_server.url, "--from-beginning", "--json",
                     "--max", "2", "--timeout", "30"])

        printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert code == 0
        assert [(a["alert_id"], a["region"]) for a in printed] == [("r1", "GD-SZ"), ("r2", "BJ")]
        assert printed[0]["explanation"].startswith("单次调价")

    @pytest.mark.parametrize("source", ["kafka", "redis"])
    def test_a_dead_source_is_a_clear_error(self, source, capsys):
        argv = (["tail", "--broker", "kafka://127.0.0.1:9"] if source == "kafka"
                else ["tail", "--from-redis", "--redis", "redis://127.0.0.1:9/0"])
        assert main([*argv, "--timeout", "5"]) == 2
        assert "127.0.0.1:9" in capsys.readouterr().err
