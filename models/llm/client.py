"""An async client for an OpenAI-compatible chat server (vLLM in production, llama.cpp in tests).

It asks for JSON constrained by a schema, in the request shape the server's `dialect` takes,
and keeps a slow or dead server from stalling the stream: at most `concurrency` requests in
flight, a timeout per attempt, retries with exponential backoff for transient faults, and a
circuit breaker that stops asking after repeated failures.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

from models.llm.breaker import CircuitBreaker
from models.llm.errors import (
    CircuitOpenError, LLMBadAnswerError, LLMError, LLMTimeoutError, LLMUnavailableError,
)
from models.llm.schema import SCHEMA_NAME

__all__ = ["Dialect", "DIALECTS", "LLMAnswer", "LLMClient", "chat_request", "response_format"]

logger = logging.getLogger(__name__)

Dialect = Literal["vllm", "llama_cpp"]
DIALECTS: Final = ("vllm", "llama_cpp")
_RETRY_STATUS: Final = frozenset({429, 500, 502, 503, 504})


def response_format(schema: dict[str, Any], dialect: Dialect, name: str = SCHEMA_NAME) -> dict[str, Any]:
    """The `response_format` that makes `dialect`'s server constrain its answer to `schema`.

    vLLM takes OpenAI's `json_schema` shape (the old `guided_json` field is gone); the llama.cpp
    server rejects that shape and takes `json_object` with the schema beside it.

    >>> response_format({"type": "object"}, "vllm")
    {'type': 'json_schema', 'json_schema': {'name': 'dose_regimens', 'schema': {'type': 'object'}, 'strict': True}}
    >>> response_format({"type": "object"}, "llama_cpp")
    {'type': 'json_object', 'schema': {'type': 'object'}}
    """
    if dialect == "vllm":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
    if dialect == "llama_cpp":
        return {"type": "json_object", "schema": schema}
    raise ValueError(f'unknown LLM dialect "{dialect}"; known: {", ".join(DIALECTS)}')


def chat_request(
    messages: list[dict[str, str]], schema: dict[str, Any], *, model: str, dialect: Dialect, max_tokens: int = 512
) -> dict[str, Any]:
    """The /v1/chat/completions body: greedy decoding, so the same insert reads the same way.

    >>> body = chat_request([{"role": "user", "content": "x"}], {"type": "object"}, model="m", dialect="vllm")
    >>> body["temperature"], body["response_format"]["type"]
    (0.0, 'json_schema')
    """
    return {
        "model": model,
        "messages": messages,
        "temperature": 0.0,
        "max_tokens": max_tokens,
        "response_format": response_format(schema, dialect),
    }


@dataclass(frozen=True)
class LLMAnswer:
    """A decoded answer and what it cost: `latency_s` of the attempt that answered."""

    content: dict[str, Any]
    latency_s: float
    attempts: int


class LLMClient:
    """Schema-constrained chat completions with bounded concurrency, retries and a breaker.

    Parameters
    ----------
    base_url
        The server root, e.g. ``http://vllm:8000`` (``/v1`` is appended when missing).
    model
        The served model name (vLLM: the ``--model`` or ``--served-model-name``).
    api_key
        Sent as a bearer token when not empty (vLLM ``--api-key``); never logged.
    dialect
        ``"vllm"`` or ``"llama_cpp"``: which structured-output request shape the server takes.
    timeout_s
        Seconds one attempt may take, connection included.
    concurrency
        Requests in flight at most; the rest wait their turn.
    max_retries
        Extra attempts after a timeout, a connection error, 429 or 5xx; 4xx answers are final.
    backoff_s
        First pause before a retry; doubled each time, with jitter.
    breaker
        Shared circuit breaker; by default 5 failed calls open it for 30 s.
    transport
        An httpx transport, for the fault tests that a real server cannot produce.

    Examples
    --------
    >>> client = LLMClient("http://127.0.0.1:8000", "Qwen/Qwen2.5-7B-Instruct", api_key="secret")
    >>> client.url, client
    ('http://127.0.0.1:8000/v1/chat/completions', LLMClient(url='http://127.0.0.1:8000/v1/chat/completions', model='Qwen/Qwen2.5-7B-Instruct', dialect='vllm'))
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        dialect: Dialect = "vllm",
        timeout_s: float = 10.0,
        concurrency: int = 8,
        max_retries: int = 2,
        backoff_s: float = 0.25,
        max_tokens: int = 512,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f'unknown LLM dialect "{dialect}"; known: {", ".join(DIALECTS)}')
        if timeout_s <= 0 or concurrency < 1 or max_retries < 0:
            raise ValueError(
                f"need timeout_s > 0, concurrency >= 1, max_retries >= 0; got {timeout_s}, {concurrency}, {max_retries}"
            )
        root = base_url.rstrip("/")
        self.url = f"{root if root.endswith('/v1') else root + '/v1'}/chat/completions"
        self.model = model
        self.dialect: Dialect = dialect
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_tokens = max_tokens
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self._api_key = api_key
        self._transport = transport
        # httpx clients and semaphores belong to one event loop; made on first use in each loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    def __repr__(self) -> str:  # the api key stays out
        return f"LLMClient(url={self.url!r}, model={self.model!r}, dialect={self.dialect!r})"

    def _bind_to_loop(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._http is None or self._slots is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s), headers=headers, transport=self._transport,
                limits=httpx.Limits(max_connections=self.concurrency),
            )
            self._slots = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._http, self._slots

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def complete_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> LLMAnswer:
        """The decoded JSON object the server answers, or an `LLMError` saying why not."""
        if not self.breaker.allow():
            raise CircuitOpenError(f"circuit open after repeated failures of {self.url}")
        http, slots = self._bind_to_loop()
        body = chat_request(messages, schema, model=self.model, dialect=self.dialect, max_tokens=self.max_tokens)
        async with slots:
            try:
                answer = await self._post_with_retries(http, body)
            except (LLMTimeoutError, LLMUnavailableError):
                self.breaker.record_failure()
                raise
        self.breaker.record_success()  # the server answered; a bad answer is the model's fault, not its
        try:
            content = _decode(answer.content)
        except LLMBadAnswerError as exc:
            exc.latency_s = answer.latency_s
            raise
        return LLMAnswer(content=content, latency_s=answer.latency_s, attempts=answer.attempts)

    async def _post_with_retries(self, http: httpx.AsyncClient, body: dict[str, Any]) -> LLMAnswer:
        for attempt in range(1, self.max_retries + 2):
            started = time.perf_counter()
            try:
                response = await http.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                error: LLMError = LLMTimeoutError(f"no answer from {self.url} within {self.timeout_s:g} s ({type(exc).__name__})")
            except httpx.TransportError as exc:
                error = LLMUnavailableError(f"cannot reach {self.url}: {type(exc).__name__}: {exc}")
            else:
                if response.status_code == 200:
                    return LLMAnswer(content=response.json(), latency_s=time.perf_counter() - started, attempts=attempt)
                error = LLMUnavailableError(f"{self.url} answered HTTP {response.status_code}: {response.text[:200]}")
                if response.status_code not in _RETRY_STATUS:
                    raise error  # a request the server will never accept: retrying cannot help
            if attempt > self.max_retries:
                raise error
            pause = self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random())
            logger.info("LLM attempt %d failed (%s); retrying in %.2f s", attempt, error, pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")


def _decode(completion: dict[str, Any]) -> dict[str, Any]:
    """The JSON object in a chat completion's first choice.

    >>> _decode({"choices": [{"message": {"content": '{"regimens": []}'}, "finish_reason": "stop"}]})
    {'regimens': []}
    >>> _decode({"choices": [{"message": {"content": '{"regimens": [{"po'}, "finish_reason": "length"}]})
    Traceback (most recent call last):
    ...
    models.llm.errors.LLMBadAnswerError: answer cut off at max_tokens: '{"regimens": [{"po'
    """
    try:
        choice = completion["choices"][0]
        content = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise LLMBadAnswerError(f"not a chat completion: {str(completion)[:120]!r}") from None
    if choice.get("finish_reason") == "length":
        raise LLMBadAnswerError(f"answer cut off at max_tokens: {content[:80]!r}")
    try:
        decoded = json.loads(content)
    except json.JSONDecodeError:
        raise LLMBadAnswerError(f"answer is not JSON: {content[:80]!r}") from None
    if not isinstance(decoded, dict):
        raise LLMBadAnswerError(f"answer is not a JSON object: {content[:80]!r}")
    return decoded
