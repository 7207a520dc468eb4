"""Judging a daily-dose result against a label: correct or not, and which kind of miss.

Correct (DAILY_DOSE.md accuracy): `determinable` matches and, when determinable, `daily`
[min, max] within ±0.5% and the same `unit`. `daily_count` / `count_unit` are judged apart,
on the labels that carry them. Pure functions over plain dicts (`DoseResult.to_dict()` shape).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Final, Iterable, Mapping

__all__ = ["TOLERANCE", "FAILURE_KINDS", "ranges_close", "judge", "count_correct", "summarise"]

TOLERANCE: Final = 0.005  # ±0.5% on each end of a range
FAILURE_KINDS: Final = (
    "wrongly_not_determinable", "wrongly_determinable", "wrong_reason", "wrong_unit", "wrong_regimen", "wrong_range",
)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b)) + 1e-9


def ranges_close(got: Any, want: Any) -> bool:
    """Whether two ``[min, max]`` ranges agree within ±0.5% at both ends (``None`` only with ``None``).

    Examples
    --------
    >>> ranges_close([200, 300], [200.5, 300]), ranges_close([1.333, 1.333], [1.3333, 1.3333])
    (True, True)
    >>> ranges_close([6, 6], [6, 9]), ranges_close(None, None), ranges_close(None, [1, 1])
    (False, True, False)
    """
    if got is None or want is None:
        return got is None and want is None
    return _close(float(got[0]), float(want[0])) and _close(float(got[1]), float(want[1]))


def _regimen_differs(got: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """A different amount per dose or frequency (another regimen), not only a different product."""
    for key in ("per_dose", "times_per_day"):
        g, w = got.get(key), want.get(key)
        if g is not None and w is not None and not ranges_close(g, w):
            return True
    return False


def judge(got: Mapping[str, Any], want: Mapping[str, Any]) -> tuple[bool, str | None]:
    """``(correct, failure kind)`` of a result against its label; kind is ``None`` when correct.

    Examples
    --------
    >>> label = {"determinable": True, "daily": [6, 6], "unit": "粒", "per_dose": [2, 2], "times_per_day": [3, 3]}
    >>> judge({"determinable": True, "daily": [6, 6], "unit": "粒"}, label)
    (True, None)
    >>> judge({"determinable": True, "daily": [4, 4], "unit": "粒", "per_dose": [2, 2], "times_per_day": [2, 2]}, label)
    (False, 'wrong_regimen')
    >>> judge({"determinable": False, "reason": "no_frequency"}, label)
    (False, 'wrongly_not_determinable')
    """
    if bool(got.get("determinable")) != bool(want.get("determinable")):
        return False, "wrongly_not_determinable" if want.get("determinable") else "wrongly_determinable"
    if not want.get("determinable"):
        return True, None
    if got.get("unit") != want.get("unit"):
        return False, "wrong_unit"
    if ranges_close(got.get("daily"), want.get("daily")):
        return True, None
    return False, "wrong_regimen" if _regimen_differs(got, want) else "wrong_range"


def count_correct(got: Mapping[str, Any], want: Mapping[str, Any]) -> tuple[bool, str | None]:
    """``(correct, kind)`` for `daily_count` + `count_unit` (both null counts as a match).

    Examples
    --------
    >>> count_correct({"daily_count": [3, 3], "count_unit": "支"}, {"daily_count": [3, 3], "count_unit": "支"})
    (True, None)
    >>> count_correct({"daily_count": None, "count_unit": None}, {"daily_count": [3, 3], "count_unit": "支"})
    (False, 'wrongly_no_count')
    """
    g, w = got.get("daily_count"), want.get("daily_count")
    if w is None and g is None:
        return True, None
    if w is None:
        return False, "wrongly_counted"
    if g is None:
        return False, "wrongly_no_count"
    if got.get("count_unit") != want.get("count_unit"):
        return False, "wrong_count_unit"
    return (True, None) if ranges_close(g, w) else (False, "wrong_count")


def summarise(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """Accuracy, count accuracy, and failure kinds over ``(got, label)`` pairs.

    Examples
    --------
    >>> s = summarise([({"determinable": False}, {"determinable": False})])
    >>> s["accuracy"], s["n"]
    (1.0, 1)
    """
    n = correct = counted = count_ok = 0
    kinds: Counter[str] = Counter()
    count_kinds: Counter[str] = Counter()
    for got, want in pairs:
        n += 1
        ok, kind = judge(got, want)
        correct += ok
        if kind:
            kinds[kind] += 1
        if want.get("determinable"):
            counted += 1
            c_ok, c_kind = count_correct(got, want)
            count_ok += c_ok
            if c_kind:
                count_kinds[c_kind] += 1
    return {
        "n": n,
        "accuracy": correct / n if n else 0.0,
        "count_n": counted,
        "count_accuracy": count_ok / counted if counted else 0.0,
        "failures": dict(kinds.most_common()),
        "count_failures": dict(count_kinds.most_common()),
    }
