"""Rules first, the model for the texts the rules cannot read, and never an ungrounded answer.

`LLMDoseExtractor` is a `DoseExtractor`. In ``"hybrid"`` mode it runs the rule engine and asks
the model only when the rules are unsure (confidence below the threshold) or call the text not
determinable; in ``"llm"`` mode it asks the model about every text. Either way the model only
transcribes regimens: `models.llm.select` applies DAILY_DOSE.md's selection rules and
arithmetic, and `models.llm.grounding` rejects any number the text does not state. A rejected
or failed answer falls back to the rule result, marked for review in `why` and with its
confidence capped at `REVIEW_CONFIDENCE`.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Final, Literal

from models.llm.cache import AnswerCache, cache_key
from models.llm.client import LLMClient
from models.llm.errors import (
    CircuitOpenError, LLMBadAnswerError, LLMError, LLMTimeoutError, LLMUnavailableError,
)
from models.llm.grounding import ungrounded
from models.llm.prompt import PROMPT_VERSION, build_messages
from models.llm.schema import ANSWER_SCHEMA, parse_answer
from models.llm.select import regimens_result
from rules.dose import DoseResult, extract_daily_dose
from rules.numerals import normalise_text
from stream.metrics import LLM_ERRORS, LLM_LATENCY

__all__ = ["LLMDoseExtractor", "Mode", "extract_many", "REVIEW_CONFIDENCE"]

logger = logging.getLogger(__name__)

Mode = Literal["llm", "hybrid"]
RuleEngine = Callable[..., DoseResult]

REVIEW_CONFIDENCE: Final = 0.3  # a fallback result the model could not confirm: a person should look
LLM_CONFIDENCE: Final = 0.75  # a grounded model answer the rules could not read
AGREED_CONFIDENCE: Final = 0.95  # the model, grounded, says what the rules said
# Not-determinable reasons that rest on a plain fact of the text: the rules' verdict stands.
_RULES_KEEP: Final = frozenset({"weight_or_area_based", "truncated"})
_ERROR_KIND: Final[tuple[tuple[type[LLMError], str], ...]] = (
    (LLMTimeoutError, "timeout"), (CircuitOpenError, "circuit_open"), (LLMUnavailableError, "unavailable"),
    (LLMBadAnswerError, "bad_answer"),
)


def _error_kind(exc: LLMError) -> str:
    return next((kind for cls, kind in _ERROR_KIND if isinstance(exc, cls)), "other")


def _same_daily(a: DoseResult, b: DoseResult) -> bool:
    return a.determinable and b.determinable and a.unit == b.unit and a.daily == b.daily


class LLMDoseExtractor:
    """Daily dose from the rules, the model, or both, with a cache in front of the model.

    Parameters
    ----------
    client
        The model server client (bounded concurrency, retries, breaker).
    mode
        ``"hybrid"``: the model only for texts the rules are unsure of; ``"llm"``: every text.
    cache
        Optional Redis answer cache; ``None`` asks the model every time (still at most once per
        text while a request for it is in flight).
    confidence_threshold
        Hybrid mode sends a text to the model when the rule confidence is below this.
    rules
        The rule engine, ``extract_daily_dose`` by default.

    Examples
    --------
    >>> extractor = LLMDoseExtractor(LLMClient("http://127.0.0.1:9", "m"), mode="hybrid")
    >>> result = asyncio.run(extractor.extract(usage="口服。一次2粒，一日3次。", spec="每粒装0.3g"))
    >>> result.daily, result.method, extractor.stats["llm_calls"]   # the rules were sure: no request
    ((6.0, 6.0), 'rules', 0)
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        mode: Mode = "hybrid",
        cache: AnswerCache | None = None,
        confidence_threshold: float = 0.8,
        rules: RuleEngine = extract_daily_dose,
    ) -> None:
        if mode not in ("llm", "hybrid"):
            raise ValueError(f'unknown extraction mode "{mode}"; known: llm, hybrid')
        if not 0 <= confidence_threshold <= 1:
            raise ValueError(f"confidence_threshold must be in [0, 1], got {confidence_threshold}")
        self.client = client
        self.mode: Mode = mode
        self.cache = cache
        self.confidence_threshold = confidence_threshold
        self.rules = rules
        self.stats: dict[str, Any] = {
            "rules": 0, "routed": 0, "rechecks": 0, "llm_calls": 0, "llm_used": 0, "llm_rejected": 0,
            "llm_errors": 0, "cache_hits": 0, "llm_latencies_ms": [],
        }
        self._in_flight: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"LLMDoseExtractor(mode={self.mode!r}, client={self.client!r}, cache={self.cache!r})"

    @property
    def concurrency(self) -> int:
        return self.client.concurrency

    def needs_model(self, rule: DoseResult) -> bool:
        """Whether hybrid routing sends this text to the model."""
        return self.mode == "llm" or not rule.determinable or rule.confidence < self.confidence_threshold

    async def extract(
        self, *, usage: str, name: str | None = None, spec: str | None = None, package: str | None = None
    ) -> DoseResult:
        rule = self._rules(usage, name, spec, package)
        if not self.needs_model(rule):
            return rule
        self.stats["routed"] += 1
        return await self._with_model(rule, usage=usage, name=name, spec=spec, package=package)

    async def recheck(
        self, *, usage: str, name: str | None = None, spec: str | None = None, package: str | None = None,
        current: DoseResult | None = None,
    ) -> DoseResult:
        """Ask the model about a text whatever the rules said (a dose_outlier recheck).

        Returns the model's grounded reading, or `current` (the rule result when not given)
        marked for review when the model fails or is not grounded.
        """
        self.stats["rechecks"] += 1
        rule = current if current is not None else self._rules(usage, name, spec, package)
        return await self._with_model(rule, usage=usage, name=name, spec=spec, package=package, recheck=True)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.cache is not None:
            await self.cache.aclose()

    def _rules(self, usage: str, name: str | None, spec: str | None, package: str | None) -> DoseResult:
        self.stats["rules"] += 1
        return self.rules(usage, name=name, spec=spec, package=package)

    async def _with_model(
        self, rule: DoseResult, *, usage: str, name: str | None, spec: str | None, package: str | None,
        recheck: bool = False,
    ) -> DoseResult:
        text = normalise_text(usage)
        try:
            answer, from_cache = await self._answer(text, normalise_text(spec) or None)
            regimens = parse_answer(answer)
        except LLMError as exc:
            kind = _error_kind(exc)
            self.stats["llm_rejected" if kind == "bad_answer" else "llm_errors"] += 1
            LLM_ERRORS.labels(kind).inc()
            logger.info("LLM answer not used (%s): %s", kind, exc)
            return self._review(rule, f"llm {kind}")
        problems = ungrounded(regimens, text)
        if problems:
            self.stats["llm_rejected"] += 1
            LLM_ERRORS.labels("ungrounded").inc()
            return self._review(rule, "llm answer not grounded: " + "; ".join(problems[:3]))
        result = regimens_result(regimens, usage=usage, name=name, spec=spec, package=package)
        if not recheck and not rule.determinable and rule.reason in _RULES_KEEP:
            return rule  # e.g. mg/kg: a fact the rules read reliably, whatever the model says
        self.stats["llm_used"] += 1
        agreed = _same_daily(result, rule)
        return replace(
            result, method="cache" if from_cache else "llm",
            confidence=AGREED_CONFIDENCE if agreed else LLM_CONFIDENCE,
            why=f"{result.why}; rules agree" if agreed else result.why,
        )

    @staticmethod
    def _review(rule: DoseResult, why: str) -> DoseResult:
        return replace(rule, confidence=min(rule.confidence, REVIEW_CONFIDENCE),
                       why=f"{rule.why}; review: {why}" if rule.why else f"review: {why}")

    async def _answer(self, text: str, spec: str | None) -> tuple[dict[str, Any], bool]:
        """The model's answer for this text: from the cache, a request in flight, or a new request."""
        key = cache_key(usage=text, spec=spec, model=self.client.model, prompt_version=PROMPT_VERSION)
        if self.cache is not None and (cached := await self.cache.get(key)) is not None:
            self.stats["cache_hits"] += 1
            return cached, True
        if key in self._in_flight:  # the same insert twice in one batch: one request
            self.stats["cache_hits"] += 1
            return await asyncio.shield(self._in_flight[key]), True
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            answer = await self.client.complete_json(build_messages(text, spec), ANSWER_SCHEMA)
            content, latency_s = answer.content, answer.latency_s
        except LLMBadAnswerError as exc:  # the server answered, badly: kept as such, so it is not asked again
            content, latency_s = {"unusable_answer": str(exc)}, exc.latency_s
        except LLMError as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unshared failure is not logged as lost
            raise
        finally:
            del self._in_flight[key]
        self.stats["llm_calls"] += 1
        if latency_s is not None:
            self.stats["llm_latencies_ms"].append(round(latency_s * 1000, 1))
            LLM_LATENCY.observe(latency_s)
        future.set_result(content)
        if self.cache is not None:  # cached even when it will be rejected: never sent twice
            await self.cache.set(key, content)
        return content, False


Item = Mapping[str, Any]


async def extract_many(extractor: Any, items: Iterable[Item]) -> list[DoseResult]:
    """Extract a batch concurrently, at most ``extractor.concurrency`` at a time, in input order.

    Each item is a mapping with ``usage`` and optionally ``name`` (or ``generic_name``),
    ``spec`` and ``package``; other keys are ignored.

    Examples
    --------
    >>> from models.extractor import RuleExtractor
    >>> results = asyncio.run(extract_many(RuleExtractor(), [
    ...     {"usage": "口服。一次2粒，一日3次。"}, {"usage": "口服，一次3～4片，一日3次。"}]))
    >>> [r.daily for r in results]
    [(6.0, 6.0), (9.0, 12.0)]
    """
    slots = asyncio.Semaphore(max(1, getattr(extractor, "concurrency", 8)))

    async def one(item: Item) -> DoseResult:
        async with slots:
            return await extractor.extract(
                usage=item["usage"], name=item.get("name") or item.get("generic_name"),
                spec=item.get("spec"), package=item.get("package"),
            )

    jobs: list[Awaitable[DoseResult]] = [one(item) for item in items]
    return list(await asyncio.gather(*jobs))
