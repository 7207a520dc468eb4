"""What the model is asked to return, and the strict reading of its answer.

The model only *transcribes* the regimens it finds in the text; choosing one and the
arithmetic stay in code (`models.llm.select`), so DAILY_DOSE.md is applied the same way
whoever read the text. Every number is a JSON number or null, a range is two fields, and
the answer is rejected as a whole when any field has the wrong shape.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

from models.llm.errors import LLMBadAnswerError

__all__ = ["ANSWER_SCHEMA", "SCHEMA_NAME", "Regimen", "parse_answer", "Range"]

Range = tuple[float, float]  # [min, max], as everywhere in the daily-dose contract

SCHEMA_NAME: Final = "dose_regimens"
MAX_REGIMENS: Final = 6  # bounds the generated tokens; real inserts list at most four or five
_NUMBER_OR_NULL: Final = {"type": ["number", "null"]}
_RANGE_FIELDS: Final = (
    ("per_dose", "per_dose_min", "per_dose_max"),
    ("times_per_day", "times_per_day_min", "times_per_day_max"),
    ("daily_total", "daily_total_min", "daily_total_max"),
)

ANSWER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "regimens": {
            "type": "array",
            "maxItems": MAX_REGIMENS,
            "items": {
                "type": "object",
                "properties": {
                    "population": {"type": "string"},  # as written: 成人, 儿童, 1～3岁, "" when none is named
                    "form": {"type": "string"},  # dosage form or route as written: 胶囊剂, 大蜜丸, 口服, 注射, ""
                    "per_dose_min": _NUMBER_OR_NULL,
                    "per_dose_max": _NUMBER_OR_NULL,
                    "unit": {"type": "string"},  # unit of the dose as written: 粒, g, 克, ml, 袋, mg/kg
                    "times_per_day_min": _NUMBER_OR_NULL,
                    "times_per_day_max": _NUMBER_OR_NULL,
                    "daily_total_min": _NUMBER_OR_NULL,  # only a stated daily total (一日6g，分2次)
                    "daily_total_max": _NUMBER_OR_NULL,
                    "loading_dose": {"type": "boolean"},  # 首次加倍, 首剂, 开始/初始 doses
                },
                "required": [
                    "population", "form", "per_dose_min", "per_dose_max", "unit", "times_per_day_min",
                    "times_per_day_max", "daily_total_min", "daily_total_max", "loading_dose",
                ],
            },
        }
    },
    "required": ["regimens"],
}


@dataclass(frozen=True)
class Regimen:
    """One regimen as the model transcribed it; ranges are None when the text gives none."""

    population: str
    form: str
    per_dose: Range | None
    unit: str
    times_per_day: Range | None
    daily_total: Range | None
    loading_dose: bool

    def numbers(self) -> list[float]:
        """Every number the model claims the text states (the grounding check reads these)."""
        return [v for r in (self.per_dose, self.times_per_day, self.daily_total) if r for v in r]

    def to_dict(self) -> dict[str, Any]:
        """The answer object in the schema's field order (the few-shot turns are built from it)."""
        spans = {f: v for name, low, high in _RANGE_FIELDS for f, v in zip((low, high), getattr(self, name) or (None, None))}
        values = {"population": self.population, "form": self.form, "unit": self.unit,
                  "loading_dose": self.loading_dose, **spans}
        return {field: values[field] for field in ANSWER_SCHEMA["properties"]["regimens"]["items"]["properties"]}


def _number(item: dict[str, Any], field: str) -> float | None:
    value = item.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise LLMBadAnswerError(f"{field} must be a non-negative number or null, got {value!r}")
    return float(value)


def _range(item: dict[str, Any], low: str, high: str) -> Range | None:
    lo, hi = _number(item, low), _number(item, high)
    if lo is None and hi is None:
        return None
    lo, hi = (hi if lo is None else lo), (lo if hi is None else hi)  # one end given: a single value
    if lo > hi:
        raise LLMBadAnswerError(f"{low} {lo:g} is above {high} {hi:g}")
    return (lo, hi)


def _text(item: dict[str, Any], field: str, limit: int = 40) -> str:
    value = item.get(field) or ""
    if not isinstance(value, str) or len(value) > limit:
        raise LLMBadAnswerError(f"{field} must be a string of at most {limit} characters, got {value!r:.60}")
    return value.strip()


def parse_answer(answer: str | dict[str, Any]) -> tuple[Regimen, ...]:
    """The regimens in a model answer (JSON text or already-decoded object), or `LLMBadAnswerError`.

    Examples
    --------
    >>> parse_answer('{"regimens": [{"population": "成人", "form": "", "per_dose_min": 2, "per_dose_max": 3,'
    ...              ' "unit": "粒", "times_per_day_min": 3, "times_per_day_max": null,'
    ...              ' "daily_total_min": null, "daily_total_max": null, "loading_dose": false}]}')
    (Regimen(population='成人', form='', per_dose=(2.0, 3.0), unit='粒', times_per_day=(3.0, 3.0), daily_total=None, loading_dose=False),)
    >>> parse_answer('{"regimens": [{"per_dose_min": -1}]}')
    Traceback (most recent call last):
    ...
    models.llm.errors.LLMBadAnswerError: per_dose_min must be a non-negative number or null, got -1
    """
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise LLMBadAnswerError(f"answer is not JSON: {exc}; starts {answer[:80]!r}") from None
    items = answer.get("regimens") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise LLMBadAnswerError(f'answer needs "regimens": a list of objects, got {str(answer)[:80]!r}')
    regimens = []
    for item in items[:MAX_REGIMENS]:
        loading = item.get("loading_dose", False)
        if not isinstance(loading, bool):
            raise LLMBadAnswerError(f"loading_dose must be true or false, got {loading!r}")
        per_dose, times, daily = (_range(item, low, high) for _, low, high in _RANGE_FIELDS)
        regimens.append(Regimen(
            population=_text(item, "population"), form=_text(item, "form"), per_dose=per_dose,
            unit=_text(item, "unit", limit=12), times_per_day=times, daily_total=daily, loading_dose=loading,
        ))
    return tuple(regimens)
