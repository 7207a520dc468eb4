"""Small robust-statistics helpers shared by the peer-group detectors (pure functions)."""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Sequence

__all__ = ["median", "modified_z", "log_mid_cost", "mid", "yuan", "times", "peer_form"]

_MAD_TO_SIGMA = 0.6745  # Iglewicz–Hoaglin: modified z = 0.6745 (x - median) / MAD
# Spellings of one 剂型 for peer grouping: coatings of a plain tablet are the same form; release
# profiles (肠溶, 缓释, 控释) and 分散/咀嚼/泡腾 tablets are not, so they are left as written.
_PLAIN_FORMS = {"薄膜衣片": "片", "糖衣片": "片", "素片": "片", "普通片": "片", "硬胶囊": "胶囊"}


@lru_cache(maxsize=4096)  # a pure function of a short string; the stream sees few distinct forms
def peer_form(dosage_form: str | None) -> str:
    """The dosage form as peer groups compare it: spacing and a trailing 剂 dropped, coatings merged.

    >>> peer_form("片剂"), peer_form("薄膜衣片"), peer_form("胶囊\xa0"), peer_form("缓释片"), peer_form(None)
    ('片', '片', '胶囊', '缓释片', '')
    """
    form = "".join((dosage_form or "").split())
    form = form[:-1] if form.endswith("剂") and len(form) > 1 else form
    return _PLAIN_FORMS.get(form, form)


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence.

    >>> median([3.0, 1.0, 2.0]), median([4.0, 1.0, 2.0, 3.0])
    (2.0, 2.5)
    """
    ordered = sorted(values)
    n = len(ordered)
    half = n // 2
    return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2


def modified_z(value: float, values: Sequence[float], floor: float) -> tuple[float, float, float]:
    """(modified z of `value`, median, MAD) against `values`; MAD never below `floor`.

    >>> z, med, mad = modified_z(2.0, [0.0, 0.0, 0.1, -0.1], floor=0.05)
    >>> round(z, 2), med, mad
    (26.98, 0.0, 0.05)
    """
    med = median(values)
    mad = max(median([abs(v - med) for v in values]), floor)
    return _MAD_TO_SIGMA * (value - med) / mad, med, mad


def mid(pair: Any) -> float | None:
    """Midpoint of a ``[min, max]`` pair; None for a missing or non-positive one.

    >>> mid([2.0, 4.0]), mid(None), mid([0, 0])
    (3.0, None, None)
    """
    if not pair:
        return None
    value = (float(pair[0]) + float(pair[1])) / 2
    return value if value > 0 else None


def log_mid_cost(event: dict[str, Any]) -> float | None:
    """Natural log of the midpoint daily cost of an enriched event, or None.

    >>> round(log_mid_cost({"daily_cost": [1.0, 1.0]}), 3), log_mid_cost({"daily_cost": None})
    (0.0, None)
    """
    value = mid(event.get("daily_cost"))
    return math.log(value) if value else None


def yuan(value: float) -> str:
    """Money as an analyst reads it.

    >>> yuan(4.1), yuan(1234.5)
    ('4.10 元', '1234.50 元')
    """
    return f"{value:.2f} 元"


def times(ratio: float) -> str:
    """A ratio as 'N.N 倍'.

    >>> times(4.4878)
    '4.5 倍'
    """
    return f"{ratio:.1f} 倍"
