"""The hybrid / llm extractor's decisions, with a scripted model (the real one is in test_llm_server.py).

Routing, grounding fallback, recheck, in-flight de-duplication, batch order and the settings
wiring are logic over an answer; a scripted transport gives that answer deterministically.
The Redis cache runs against a real redis-server, which one test stops.
"""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from models.extractor import build_extractor
from models.llm import build_llm_extractor
from models.llm.cache import AnswerCache
from models.llm.client import LLMClient
from models.llm.hybrid import REVIEW_CONFIDENCE, LLMDoseExtractor, extract_many
from rules.dose import extract_daily_dose

SURE = "口服。一次2粒，一日3次。"  # the rules are confident
UNSURE = "口服。一次30～60ml。"  # the rules: not determinable (no_frequency)


def regimen(per_dose=(2, 2), unit="粒", times=(3, 3), daily=None, **labels) -> dict:
    return {"population": labels.get("population", ""), "form": labels.get("form", ""),
            "per_dose_min": per_dose and per_dose[0], "per_dose_max": per_dose and per_dose[1], "unit": unit,
            "times_per_day_min": times and times[0], "times_per_day_max": times and times[1],
            "daily_total_min": daily and daily[0], "daily_total_max": daily and daily[1],
            "loading_dose": labels.get("loading", False)}


class ScriptedModel:
    """Answers every chat completion with `answer`, after `delay_s`, counting requests."""

    def __init__(self, *regimens: dict, delay_s: float = 0.0) -> None:
        self.answer = {"regimens": list(regimens)}
        self.delay_s = delay_s
        self.requests: list[dict] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        await asyncio.sleep(self.delay_s)
        content = json.dumps(self.answer, ensure_ascii=False)
        return httpx.Response(200, json={"choices": [{"message": {"content": content}, "finish_reason": "stop"}]})

    def extractor(self, mode="hybrid", cache=None, **options) -> LLMDoseExtractor:
        client = LLMClient("http://llm.test", "scripted", transport=httpx.MockTransport(self), **options)
        return LLMDoseExtractor(client, mode=mode, cache=cache)


def run(coro):
    return asyncio.run(coro)


class TestRouting:
    def test_hybrid_leaves_confident_rule_results_alone(self):
        model = ScriptedModel(regimen())
        extractor = model.extractor()
        result = run(extractor.extract(usage=SURE, spec="每粒装0.3g"))
        assert result == extract_daily_dose(SURE, spec="每粒装0.3g")
        assert model.requests == [] and extractor.stats["routed"] == 0 and extractor.stats["rules"] == 1

    def test_hybrid_asks_about_what_the_rules_cannot_read(self):
        model = ScriptedModel(regimen((30, 60), "ml", None))
        extractor = model.extractor()
        result = run(extractor.extract(usage=UNSURE))
        assert len(model.requests) == 1 and extractor.stats["routed"] == 1 and extractor.stats["llm_calls"] == 1
        assert not result.determinable and result.reason == "no_frequency"  # same verdict, now from the model
        assert result.method == "llm" and extractor.stats["llm_latencies_ms"][0] >= 0

    def test_llm_mode_asks_every_time_and_agreement_raises_confidence(self):
        model = ScriptedModel(regimen())
        extractor = model.extractor(mode="llm")
        result = run(extractor.extract(usage=SURE, spec="每粒装0.3g"))
        assert len(model.requests) == 1
        assert result.method == "llm" and result.daily == (6, 6) and result.daily_count == (6, 6)
        assert result.confidence > extract_daily_dose(SURE).confidence - 1e-9 and "rules agree" in result.why

    def test_the_request_carries_the_normalised_insert_last(self):
        model = ScriptedModel(regimen((10, 10), "ml"))
        run(model.extractor(mode="llm").extract(usage="口服，一次lOml，一日3次。", spec="10ml/支"))
        assert model.requests[0]["messages"][-1]["content"] == "规格：10ml/支\n用法用量：口服,一次10ml,一日3次。"


class TestFallback:
    def test_ungrounded_answer_falls_back_to_rules_marked_for_review(self):
        model = ScriptedModel(regimen((2, 3), "10g", (60, 80)))  # what SmolLM2-135M really answered
        extractor = model.extractor(mode="llm")
        result = run(extractor.extract(usage=SURE))
        rules = extract_daily_dose(SURE)
        assert result.daily == rules.daily and result.method == "rules"
        assert result.confidence <= REVIEW_CONFIDENCE and "review: llm answer not grounded" in result.why
        assert extractor.stats["llm_rejected"] == 1 and extractor.stats["llm_used"] == 0

    def test_schema_violation_is_rejected(self):
        model = ScriptedModel({"per_dose_min": -2})
        extractor = model.extractor(mode="llm")
        result = run(extractor.extract(usage=SURE))
        assert result.daily == (6, 6) and "review: llm bad_answer" in result.why
        assert extractor.stats["llm_rejected"] == 1

    def test_rules_keep_a_per_weight_verdict(self):
        usage = "静脉滴注，一次1～2mg/kg，一日2次。"
        model = ScriptedModel(regimen((1, 2), "mg/kg", (2, 2)))
        result = run(model.extractor().extract(usage=usage))
        assert result.reason == "weight_or_area_based"

    def test_recheck_asks_even_when_the_rules_are_sure(self):
        model = ScriptedModel(regimen((2, 2), "粒", (3, 3)))
        extractor = model.extractor()
        current = extract_daily_dose(SURE)
        result = run(extractor.recheck(usage=SURE, current=current))
        assert len(model.requests) == 1 and extractor.stats["rechecks"] == 1 and result.method == "llm"


class TestBatches:
    def test_results_come_back_in_input_order(self):
        model = ScriptedModel(regimen((30, 60), "ml", None), delay_s=0.01)
        extractor = model.extractor(concurrency=2)
        items = [{"usage": SURE, "spec": "每粒装0.3g"}, {"usage": UNSURE}, {"usage": "口服，一次3～4片，一日3次。"}]
        results = run(extract_many(extractor, items))
        assert [r.daily for r in results] == [(6, 6), None, (9, 12)]

    def test_the_same_insert_twice_in_a_batch_is_asked_once(self):
        model = ScriptedModel(regimen((30, 60), "ml", None), delay_s=0.05)
        extractor = model.extractor(mode="llm")
        results = run(extract_many(extractor, [{"usage": UNSURE}] * 4))
        assert len(model.requests) == 1 and len(results) == 4
        assert extractor.stats["llm_calls"] == 1 and extractor.stats["cache_hits"] == 3


class TestWiring:
    def test_build_from_settings_object(self):
        class Settings:
            vllm_base_url = "http://vllm:8000/v1"
            vllm_model = "Qwen/Qwen2.5-7B-Instruct"
            vllm_api_key = "k"
            llm_dialect = "llama_cpp"
            llm_timeout_s = 5.0
            llm_concurrency = 3
            llm_confidence_threshold = 0.9
            redis_url = ""

        extractor = build_extractor("llm", Settings())
        assert extractor.mode == "llm" and extractor.cache is None and extractor.confidence_threshold == 0.9
        assert (extractor.client.dialect, extractor.client.timeout_s, extractor.concurrency) == ("llama_cpp", 5.0, 3)

    def test_build_from_environment(self, monkeypatch):
        monkeypatch.setenv("PW_VLLM_BASE_URL", "http://gpu-box:8000")
        monkeypatch.setenv("PW_LLM_CONCURRENCY", "16")
        monkeypatch.setenv("PW_REDIS_URL", "redis://cache:6379/1")
        extractor = build_llm_extractor("hybrid")
        assert extractor.client.url == "http://gpu-box:8000/v1/chat/completions" and extractor.concurrency == 16
        assert extractor.cache.redis_url == "redis://cache:6379/1"

    def test_unknown_method(self):
        with pytest.raises(ValueError, match="bert"):
            build_llm_extractor("bert")


@pytest.mark.redis
class TestCache:
    def test_an_answer_is_asked_once_across_extractors(self, redis_server):
        model = ScriptedModel(regimen((30, 60), "ml", None))
        first = model.extractor(mode="llm", cache=AnswerCache(f"redis://127.0.0.1:{redis_server.port}/0"))
        run(first.extract(usage=UNSURE))
        second = model.extractor(mode="llm", cache=AnswerCache(f"redis://127.0.0.1:{redis_server.port}/0"))
        result = run(second.extract(usage=UNSURE))
        assert len(model.requests) == 1 and second.stats["cache_hits"] == 1 and result.method == "cache"

    def test_redis_down_still_extracts(self, redis_server):
        model = ScriptedModel(regimen((30, 60), "ml", None))
        cache = AnswerCache(f"redis://127.0.0.1:{redis_server.port}/0", retry_after_s=0)
        extractor = model.extractor(mode="llm", cache=cache)
        run(extractor.extract(usage=UNSURE))
        redis_server.stop()
        result = run(extractor.extract(usage=UNSURE + "或遵医嘱。"))
        assert result.method == "llm" and len(model.requests) == 2
        assert cache.errors >= 2  # the failed get and the failed set, swallowed
