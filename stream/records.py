"""The input records of the event contract, checked field by field with errors an analyst can read.

The topics carry raw bytes; this module turns them into plain dicts or says exactly why not,
so that a bad message becomes a dead-letter record instead of a crashed worker.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final, Literal, Mapping

from rules.errors import InvalidEventError

__all__ = [
    "FieldSpec", "LISTING_FIELDS", "PRICE_CHANGE_FIELDS", "DeadLetterReason", "BadEvent",
    "decode_json", "validate", "LISTINGS_TOPIC", "PRICE_CHANGES_TOPIC",
]

LISTINGS_TOPIC: Final = "drug.listings"
PRICE_CHANGES_TOPIC: Final = "drug.price-changes"

DeadLetterReason = Literal[
    "undecodable", "invalid_json", "not_an_object", "missing_field", "wrong_type", "bad_price",
    "unknown_product", "unknown_topic", "processing_error",
]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Literal["str", "number"]
    required: bool
    positive: bool = False  # prices: must be a finite number > 0


LISTING_FIELDS: Final = (
    FieldSpec("event_id", "str", True), FieldSpec("ts", "str", True), FieldSpec("product_id", "str", True),
    FieldSpec("region", "str", True), FieldSpec("generic_name", "str", True),
    FieldSpec("manufacturer", "str", True), FieldSpec("dosage_form", "str", False),
    FieldSpec("spec", "str", False), FieldSpec("package", "str", False),
    FieldSpec("pack_qty", "number", False, positive=True), FieldSpec("min_unit", "str", False),
    FieldSpec("pack_unit", "str", False), FieldSpec("usage", "str", True),
    FieldSpec("price", "number", True, positive=True),
)
PRICE_CHANGE_FIELDS: Final = (
    FieldSpec("event_id", "str", True), FieldSpec("ts", "str", True), FieldSpec("product_id", "str", True),
    FieldSpec("region", "str", True), FieldSpec("new_price", "number", True, positive=True),
    FieldSpec("old_price", "number", False), FieldSpec("reason", "str", False),
)
FIELDS_BY_TOPIC: Final[Mapping[str, tuple[FieldSpec, ...]]] = {
    LISTINGS_TOPIC: LISTING_FIELDS, PRICE_CHANGES_TOPIC: PRICE_CHANGE_FIELDS,
}


class BadEvent(InvalidEventError):
    """An input message that breaks the contract; `reason` is the dead-letter reason."""

    def __init__(self, reason: DeadLetterReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_json(raw: bytes | str | None) -> dict[str, Any]:
    """Bytes of one message to a dict, or `BadEvent` naming what is wrong.

    >>> decode_json(b'{"a": 1}')
    {'a': 1}
    >>> decode_json(b"\\xff\\xfe").__class__
    Traceback (most recent call last):
    ...
    stream.records.BadEvent: message is not UTF-8 text: ...
    """
    if raw is None:
        raise BadEvent("invalid_json", "message has no value (null / tombstone)")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadEvent("undecodable", f"message is not UTF-8 text: {exc}") from None
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise BadEvent("invalid_json", f"message is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadEvent("not_an_object", f"message is JSON {type(value).__name__}, not an object")
    return value


def _reject_constant(name: str) -> float:
    # Python's json reads NaN / Infinity, which is not JSON; treat them as the bad prices they are.
    return float("nan") if name == "NaN" else float("inf") if name == "Infinity" else float("-inf")


def validate(topic: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """The event with every contract field checked; unknown extra fields are kept.

    >>> validate("drug.price-changes", {"event_id": "e", "ts": "2026-01-01T00:00:00+08:00",
    ...     "product_id": "P", "region": "GD-SZ", "new_price": 12})["new_price"]
    12.0
    >>> validate("drug.price-changes", {"event_id": "e", "ts": "t", "product_id": "P", "region": "R",
    ...     "new_price": -1})
    Traceback (most recent call last):
    ...
    stream.records.BadEvent: field "new_price" must be a finite price above 0, got -1
    """
    specs = FIELDS_BY_TOPIC.get(topic)
    if specs is None:
        raise BadEvent("unknown_topic", f'no contract for topic "{topic}"; known: {", ".join(FIELDS_BY_TOPIC)}')
    missing = [s.name for s in specs if s.required and value.get(s.name) in (None, "")]
    if missing:
        raise BadEvent("missing_field", f"required field(s) missing or empty: {', '.join(missing)}")
    event = dict(value)
    for spec in specs:
        if event.get(spec.name) is not None:
            event[spec.name] = _check(spec, event[spec.name])
    return event


def _check(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "str":
        if not isinstance(value, str):
            raise BadEvent("wrong_type", f'field "{spec.name}" must be a string, got {type(value).__name__} {value!r}')
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadEvent("wrong_type", f'field "{spec.name}" must be a number, got {type(value).__name__} {value!r}')
    number = float(value)
    if spec.positive and not (math.isfinite(number) and number > 0):
        reason: DeadLetterReason = "bad_price" if "price" in spec.name else "wrong_type"
        what = "price" if "price" in spec.name else "number"
        raise BadEvent(reason, f'field "{spec.name}" must be a finite {what} above 0, got {value!r}')
    if not math.isfinite(number):
        raise BadEvent("wrong_type", f'field "{spec.name}" must be a finite number, got {value!r}')
    return number
