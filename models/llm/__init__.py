"""LLM extraction of the daily dose, for the insert texts the rules cannot read.

The family's contract: the model (vLLM in production, the llama.cpp server in tests, both over
the OpenAI-compatible API) only transcribes the regimens a text states, as JSON constrained by
`schema.ANSWER_SCHEMA`; code picks the regimen and does the arithmetic (`select`); an answer
with any number the text does not state is rejected (`grounding`); a rejected or failed answer
falls back to the rule result, marked for review. `build_llm_extractor` wires it from settings.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from models.llm.breaker import CircuitBreaker
from models.llm.cache import AnswerCache
from models.llm.client import LLMClient

if TYPE_CHECKING:
    from models.llm.hybrid import LLMDoseExtractor

__all__ = ["build_llm_extractor", "LLMDoseExtractor", "LLMClient", "AnswerCache", "CircuitBreaker", "extract_many"]


def __getattr__(name: str) -> Any:  # the extractor pulls in the rule engine: loaded when first asked for
    if name in ("LLMDoseExtractor", "extract_many"):
        from models.llm import hybrid

        return getattr(hybrid, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Setting name → (environment variable, default), as in stream.settings.Settings.
_DEFAULTS: Final[dict[str, tuple[str, Any]]] = {
    "vllm_base_url": ("PW_VLLM_BASE_URL", "http://localhost:8000/v1"),
    "vllm_model": ("PW_VLLM_MODEL", "Qwen/Qwen2.5-7B-Instruct"),
    "vllm_api_key": ("PW_VLLM_API_KEY", ""),
    "llm_dialect": ("PW_LLM_DIALECT", "vllm"),
    "llm_timeout_s": ("PW_LLM_TIMEOUT_S", 30.0),
    "llm_concurrency": ("PW_LLM_CONCURRENCY", 8),
    "llm_confidence_threshold": ("PW_LLM_CONFIDENCE_THRESHOLD", 0.8),
    "redis_url": ("PW_REDIS_URL", "redis://localhost:6379/0"),
}


def _setting(settings: Any, name: str) -> Any:
    variable, default = _DEFAULTS[name]
    value = getattr(settings, name, None) if settings is not None else None
    if value is None:
        value = os.environ.get(variable, default)
    return type(default)(value) if not isinstance(default, str) else str(value)


def build_llm_extractor(method: str, settings: Any = None) -> LLMDoseExtractor:
    """The ``"llm"`` or ``"hybrid"`` extractor, configured from a settings object or ``PW_*`` variables.

    An empty ``redis_url`` runs without the answer cache.

    Examples
    --------
    >>> class Settings:
    ...     vllm_base_url = "http://vllm:8000/v1"; llm_dialect = "llama_cpp"; redis_url = ""
    >>> extractor = build_llm_extractor("hybrid", Settings())
    >>> extractor.mode, extractor.client.url, extractor.client.dialect, extractor.cache
    ('hybrid', 'http://vllm:8000/v1/chat/completions', 'llama_cpp', None)
    """
    if method not in ("llm", "hybrid"):
        raise ValueError(f'unknown LLM extraction method "{method}"; known: llm, hybrid')
    client = LLMClient(
        _setting(settings, "vllm_base_url"), _setting(settings, "vllm_model"),
        api_key=_setting(settings, "vllm_api_key"), dialect=_setting(settings, "llm_dialect"),
        timeout_s=_setting(settings, "llm_timeout_s"), concurrency=_setting(settings, "llm_concurrency"),
    )
    from models.llm.hybrid import LLMDoseExtractor  # noqa: F811 (the runtime import)

    redis_url = _setting(settings, "redis_url")
    return LLMDoseExtractor(
        client, mode=method, cache=AnswerCache(redis_url) if redis_url else None,
        confidence_threshold=_setting(settings, "llm_confidence_threshold"),
    )
