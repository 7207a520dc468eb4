"""The hybrid extraction path in the live stream: a real worker, real Kafka, a real LLM server.

The CPU model (SmolLM2-135M) invents numbers, so what this shows is the plumbing: unsure texts
are routed to the server, its ungrounded answers are rejected, the rule reading is published
flagged for review, and confident texts never wait for the model.
"""
from __future__ import annotations

import uuid

import pytest

from stream.admin import ensure_topics
from stream.workerproc import WorkerProcess
from tests.stream import feeds
from tests.stream.kafka_helpers import TopicReader, delete_all_topics, produce, wait_until
from tests.stream.test_stream_kafka import CONTRACT_TOPICS

pytestmark = [pytest.mark.kafka, pytest.mark.llm, pytest.mark.slow]

UNSURE = "口服，水蜜丸每次5～12g，大蜜丸每次1～2丸，3次/d，或遵医嘱。"  # two forms, nothing to choose by


def test_unsure_texts_go_to_the_llm_and_fall_back_when_it_invents(kafka_broker, redis_server, llm_server, tmp_path):
    delete_all_topics(kafka_broker.bootstrap)
    ensure_topics(kafka_broker.bootstrap, CONTRACT_TOPICS, partitions=1)
    feed = [feeds.listing("H1", "HP1", price=12.0, manufacturer="甲厂"),  # confident: rules only
            feeds.listing("H2", "HP2", price=30.0, manufacturer="乙厂", generic_name="前列舒丸", dosage_form="丸剂",
                          spec=None, package=None, pack_qty=None, min_unit=None, usage=UNSURE)]
    worker = WorkerProcess(f"kafka://{kafka_broker.bootstrap}", log_path=tmp_path / "worker.log", env={
        "PW_APP_ID": f"pw-llm-{uuid.uuid4().hex[:6]}", "PW_PARTITIONS": "1", "PW_REDIS_URL": redis_server.url,
        "PW_WEB_ENABLED": "false", "PW_EXTRACTION": "hybrid", "PW_VLLM_BASE_URL": llm_server.base_url,
        "PW_VLLM_MODEL": llm_server.model_alias, "PW_LLM_DIALECT": "llama_cpp", "PW_LLM_TIMEOUT_S": "300",
        "PW_LLM_CONCURRENCY": "1"})
    enriched = TopicReader(kafka_broker.bootstrap, "drug.enriched")
    with worker:
        produce(kafka_broker.bootstrap, feed)
        wait_until(lambda: {r["event_id"] for r in enriched.poll()} >= {"H1", "H2"}, timeout=600,
                   what="both listings enriched", on_timeout=worker.log_tail)
    by_id = {r["event_id"]: r for r in enriched.records}
    confident, unsure = by_id["H1"], by_id["H2"]
    assert confident["method"] == "rules" and "review" not in (confident["why"] or "")
    # the unsure text was asked about: either a grounded model reading, or the rules flagged for review
    assert unsure["method"] == "llm" or ("review" in (unsure["why"] or "") and unsure["confidence"] <= 0.3)
    assert unsure["determinable"] and unsure["daily"] == [15, 36] and unsure["unit"] == "g"
    enriched.close()
