"""Dose extractors behind one protocol, so the stream and the CLI do not care who read the insert.

`RuleExtractor` wraps the deterministic rule engine; the LLM and hybrid extractors live in
`models.llm` and are built by `build_extractor`.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from rules.dose import DoseResult, extract_daily_dose

__all__ = ["DoseExtractor", "RuleExtractor", "build_extractor"]


@runtime_checkable
class DoseExtractor(Protocol):
    """Reads one insert's 用法用量 into a `DoseResult`; never raises for bad text."""

    stats: dict[str, Any]

    async def extract(
        self, *, usage: str, name: str | None = None, spec: str | None = None, package: str | None = None
    ) -> DoseResult: ...


class RuleExtractor:
    """The rule engine alone: deterministic, no I/O."""

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {"rules": 0}

    async def extract(self, *, usage, name=None, spec=None, package=None) -> DoseResult:
        self.stats["rules"] += 1
        return extract_daily_dose(usage, name=name, spec=spec, package=package)


def build_extractor(method: str, settings: Any = None) -> DoseExtractor:
    """The extractor for `method`: "rules", "llm" or "hybrid" (the last two need an LLM server)."""
    if method == "rules":
        return RuleExtractor()
    from models.llm import build_llm_extractor  # imported late: only the LLM paths need it

    return build_llm_extractor(method, settings)
