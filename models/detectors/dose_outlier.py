"""`dose_outlier`: an extracted daily dose far from its peer group's, routed for review."""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any, Final

from models.detectors.base import Detector, Finding
from models.detectors.robust import median, mid, modified_z, peer_form, times
from rules.severity import DOSE_LADDER, severity_for

__all__ = ["DoseOutlier"]

_TO_MG: Final = {"g": ("mg", 1000.0), "μg": ("mg", 0.001), "ug": ("mg", 0.001), "L": ("ml", 1000.0)}


def _dose(x: dict[str, Any]) -> tuple[str, float] | None:
    """(comparable unit, log daily dose) of an enriched event, or None."""
    daily, unit = mid(x.get("daily")), x.get("unit")
    if not daily or not unit:
        return None
    unit, scale = _TO_MG.get(unit, (unit, 1.0))
    return unit, math.log(daily * scale)


class DoseOutlier(Detector):
    """Two independent checks, as in Shenzhen's "dual anomaly detection"; both must agree.

    1. **robust**: the daily dose is at least `ratio` × (or under 1/`ratio` of) the median
       of the other products of the same form and dose unit, with modified z beyond `z`;
    2. **density** (1-D DBSCAN): fewer than `min_samples` other doses lie within `eps`
       (log units) of it, so it belongs to no cluster.

    Such a listing is most likely an extraction or data error: the finding is low or medium
    and says so, and the suite keeps its daily cost out of the price checks.

    Parameters
    ----------
    ratio
        Least factor from the peer median.
    z
        Least |modified z|.
    mad_floor
        Smallest MAD used, in log units.
    eps
        Neighbourhood radius of the density check, in log units.
    min_samples
        Neighbours needed to belong to a cluster.
    min_peers
        Doses needed before checking.

    Examples
    --------
    >>> det = DoseOutlier()
    >>> for i, d in enumerate([6, 6, 6, 9, 6]):
    ...     det.learn_one({"product_id": f"P{i}", "dosage_form": "片剂", "daily": [d, d], "unit": "片"})
    >>> f = det.check_one({"product_id": "Q", "dosage_form": "片剂", "daily": [60, 60], "unit": "片"})
    >>> f.severity, f.explanation
    ('medium', '日用量 60 片，为同组 5 个产品中位数 6 片的 10.0 倍，疑似用量提取或数据错误，请复核。')
    """

    alert_type = "dose_outlier"

    def __init__(self, ratio: float = 3.0, z: float = 3.5, mad_floor: float = 0.1, eps: float = math.log(2.0),
                 min_samples: int = 2, min_peers: int = 4) -> None:
        if ratio <= 1:
            raise ValueError(f"ratio must be > 1, got {ratio}")
        self.ratio = ratio
        self.z = z
        self.mad_floor = mad_floor
        self.eps = eps
        self.min_samples = min_samples
        self.min_peers = min_peers
        self._doses: dict[tuple[str, str], dict[str, float]] = {}
        self._medians: dict[tuple[str, str], float] = {}  # cache; most listings sit at the median

    def learn_one(self, x: dict[str, Any]) -> None:
        dose = _dose(x)
        if dose is not None and x.get("event_type", "listing") == "listing":
            key = (peer_form(x.get("dosage_form")), dose[0])
            self._doses.setdefault(key, {})[x["product_id"]] = dose[1]
            self._medians.pop(key, None)

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        dose = _dose(x)
        if dose is None or x.get("event_type", "listing") != "listing":
            return None
        unit, value = dose
        key = (peer_form(x.get("dosage_form")), unit)
        bucket = self._doses.get(key, {})
        if x["product_id"] in bucket:  # a re-listing: compare with the others only
            peers = [v for pid, v in bucket.items() if pid != x["product_id"]]
        else:
            if len(bucket) >= self.min_peers:
                med = self._medians.get(key)
                if med is None:
                    med = self._medians[key] = median(list(bucket.values()))
                if abs(value - med) < math.log(self.ratio):  # within `ratio` of the median: no check can fire
                    return None
            peers = list(bucket.values())
        if len(peers) < self.min_peers:
            return None
        z, med, _ = modified_z(value, peers, self.mad_floor)
        factor = math.exp(abs(value - med))
        if factor < self.ratio or abs(z) < self.z:
            return None
        ordered = sorted(peers)
        neighbours = bisect_right(ordered, value + self.eps) - bisect_left(ordered, value - self.eps)
        if neighbours >= self.min_samples:
            return None
        ratio = math.exp(value - med)
        daily, peer_median = math.exp(value), math.exp(med)
        return Finding(
            type="dose_outlier", severity=severity_for(factor, DOSE_LADDER), score=round(factor, 4),
            reference={"peer_median_daily": round(peer_median, 4), "unit": unit, "peer_n": len(peers),
                       "ratio": round(ratio, 4), "modified_z": round(z, 2), "neighbours": neighbours,
                       "checks": ["robust_mad", "dbscan_1d"]},
            explanation=(f"日用量 {daily:g} {unit}，为同组 {len(peers)} 个产品中位数 {peer_median:g} {unit}的 "
                         f"{times(ratio)}，疑似用量提取或数据错误，请复核。"),
        )
