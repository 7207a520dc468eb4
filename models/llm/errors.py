"""Why an LLM answer could not be used; every class is a `PriceWatchError`.

The hybrid extractor catches `LLMError` and falls back to the rule result, so the stream
never stops because the model server did.
"""
from __future__ import annotations

from rules.errors import PriceWatchError

__all__ = [
    "LLMError", "LLMTimeoutError", "LLMUnavailableError", "LLMBadAnswerError", "CircuitOpenError",
]


class LLMError(PriceWatchError): ...
class LLMTimeoutError(LLMError): ...  # no answer within the request timeout, retries included
class LLMUnavailableError(LLMError): ...  # connection refused, 5xx, 429 after the retries
class LLMBadAnswerError(LLMError):  # the answer is not JSON, or not the schema's shape
    latency_s: float | None = None  # set when a server did answer, so the call still counts
class CircuitOpenError(LLMError): ...  # too many failures lately: the server is not asked now
