"""The LLM client without a model server: request shapes, retries, breaker, answer parsing.

Request shapes are read off an httpx mock transport; server faults that a real process does
not produce on demand (503 then success, 400) are mocked here. Timeouts and dead servers are
tested against the real llama.cpp server in test_llm_server.py.
"""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from models.llm.breaker import CircuitBreaker
from models.llm.client import LLMClient, response_format
from models.llm.errors import CircuitOpenError, LLMBadAnswerError, LLMUnavailableError
from models.llm.prompt import FEW_SHOT, PROMPT_VERSION, SYSTEM_PROMPT, build_messages
from models.llm.schema import ANSWER_SCHEMA, parse_answer

ANSWER = {"regimens": [{"population": "", "form": "", "per_dose_min": 2, "per_dose_max": 2, "unit": "粒",
                        "times_per_day_min": 3, "times_per_day_max": 3, "daily_total_min": None,
                        "daily_total_max": None, "loading_dose": False}]}


def completion(content: dict | str, finish_reason: str = "stop") -> dict:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}]}


class Recorder:
    """A mock transport answering from a script of (status, body), recording each request."""

    def __init__(self, *script: tuple[int, dict | str]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return httpx.Response(status, json=body) if isinstance(body, dict) else httpx.Response(status, text=body)

    def client(self, **options) -> LLMClient:
        options.setdefault("backoff_s", 0.001)
        return LLMClient("http://llm.test/v1", "test-model", transport=httpx.MockTransport(self), **options)


def run(coro):
    return asyncio.run(coro)


class TestRequestShape:
    @pytest.mark.parametrize("dialect, expected", [
        ("vllm", {"type": "json_schema", "json_schema": {"name": "dose_regimens", "schema": ANSWER_SCHEMA,
                                                           "strict": True}}),
        ("llama_cpp", {"type": "json_object", "schema": ANSWER_SCHEMA}),
    ])
    def test_each_dialect_sends_its_response_format(self, dialect, expected):
        recorder = Recorder((200, completion(ANSWER)))
        answer = run(recorder.client(dialect=dialect).complete_json(build_messages("一次2粒，一日3次"), ANSWER_SCHEMA))
        body = json.loads(recorder.requests[0].content)
        assert body["response_format"] == expected
        assert "guided_json" not in body  # removed from current vLLM
        assert body["model"] == "test-model" and body["temperature"] == 0.0
        assert answer.content == ANSWER and answer.attempts == 1

    def test_unknown_dialect_is_refused(self):
        with pytest.raises(ValueError, match="openai"):
            LLMClient("http://x", "m", dialect="openai")
        with pytest.raises(ValueError, match="tgi"):
            response_format({}, "tgi")

    def test_api_key_is_a_bearer_token_and_stays_out_of_repr(self):
        recorder = Recorder((200, completion(ANSWER)))
        client = recorder.client(api_key="s3cret")
        run(client.complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert recorder.requests[0].headers["authorization"] == "Bearer s3cret"
        assert "s3cret" not in repr(client)

    def test_no_key_no_authorization_header(self):
        recorder = Recorder((200, completion(ANSWER)))
        run(recorder.client().complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert "authorization" not in recorder.requests[0].headers

    def test_the_insert_comes_last_after_a_fixed_prefix(self):
        messages = build_messages("口服，一次1袋，一日2次。", "每袋10g")
        assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
        assert messages[1:-1] == list(FEW_SHOT)
        assert messages[-1]["content"].endswith("用法用量：口服，一次1袋，一日2次。")
        assert PROMPT_VERSION

    def test_few_shot_answers_satisfy_the_schema_reader(self):
        for turn in FEW_SHOT[1::2]:
            assert parse_answer(turn["content"])

    @pytest.mark.parametrize("base_url", ["http://h:8000", "http://h:8000/", "http://h:8000/v1", "http://h:8000/v1/"])
    def test_base_url_with_or_without_v1(self, base_url):
        assert LLMClient(base_url, "m").url == "http://h:8000/v1/chat/completions"


class TestFaults:
    def test_transient_errors_are_retried_then_answered(self):
        recorder = Recorder((503, "busy"), (502, "bad gateway"), (200, completion(ANSWER)))
        answer = run(recorder.client(max_retries=2).complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert answer.attempts == 3 and len(recorder.requests) == 3

    def test_retries_run_out(self):
        recorder = Recorder((503, "busy"))
        with pytest.raises(LLMUnavailableError, match="503"):
            run(recorder.client(max_retries=2).complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert len(recorder.requests) == 3

    def test_a_client_error_is_not_retried(self):
        recorder = Recorder((400, "schema not supported"))
        with pytest.raises(LLMUnavailableError, match="400"):
            run(recorder.client(max_retries=3).complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert len(recorder.requests) == 1

    @pytest.mark.parametrize("content, finish, message", [
        ("not json", "stop", "not JSON"),
        ('{"regimens": [{"per', "length", "cut off"),
        ("[1, 2]", "stop", "not a JSON object"),
    ])
    def test_bad_answers_are_bad_answers(self, content, finish, message):
        recorder = Recorder((200, completion(content, finish)))
        with pytest.raises(LLMBadAnswerError, match=message):
            run(recorder.client().complete_json(build_messages("x"), ANSWER_SCHEMA))

    def test_breaker_opens_after_failed_calls_and_stops_requests(self):
        recorder = Recorder((503, "down"))
        client = recorder.client(max_retries=0, breaker=CircuitBreaker(failure_threshold=2, reset_after_s=60))
        for _ in range(2):
            with pytest.raises(LLMUnavailableError):
                run(client.complete_json(build_messages("x"), ANSWER_SCHEMA))
        with pytest.raises(CircuitOpenError):
            run(client.complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert len(recorder.requests) == 2  # the third call never reached the server

    def test_a_bad_answer_does_not_open_the_breaker(self):
        recorder = Recorder((200, completion("nonsense")))
        client = recorder.client(breaker=CircuitBreaker(failure_threshold=1))
        with pytest.raises(LLMBadAnswerError):
            run(client.complete_json(build_messages("x"), ANSWER_SCHEMA))
        assert client.breaker.state == "closed"

    def test_concurrency_is_bounded(self):
        in_flight = peak = 0

        async def handler(request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return httpx.Response(200, json=completion(ANSWER))

        client = LLMClient("http://llm.test", "m", concurrency=3, transport=httpx.MockTransport(handler))

        async def many():
            return await asyncio.gather(*(client.complete_json(build_messages(str(i)), ANSWER_SCHEMA) for i in range(12)))

        assert len(run(many())) == 12
        assert peak == 3


class TestBreaker:
    def test_half_open_failure_reopens(self):
        now = [0.0]
        breaker = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=lambda: now[0])
        breaker.record_failure()
        assert not breaker.allow()
        now[0] = 6
        assert breaker.allow() and breaker.state == "half_open"
        breaker.record_failure()
        assert breaker.state == "open" and not breaker.allow()

    @pytest.mark.parametrize("threshold, reset", [(0, 1), (1, -1)])
    def test_bad_settings_are_refused(self, threshold, reset):
        with pytest.raises(ValueError):
            CircuitBreaker(failure_threshold=threshold, reset_after_s=reset)
