"""`peer_outlier`: daily cost far above other manufacturers of the same 通用名 and 剂型."""
from __future__ import annotations

import math
from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import peer_form, log_mid_cost, modified_z, times, yuan
from rules.severity import severity_for

__all__ = ["PeerOutlier"]

Entry = tuple[str, float]  # (manufacturer, log daily cost)


class PeerOutlier(Detector):
    """A listing's daily cost against the median of its peers, with a robust spread check.

    Peers are the current listings (one per product and region, updated by every price
    change) of *other* manufacturers with the same dosage form; the detector keeps one
    instance per 通用名. A listing is an outlier when it is at least `ratio` times the peer
    median (NHSA's 1.5× line) *and* either its modified z-score on log daily cost exceeds `z`
    (so a group whose members genuinely spread widely does not alert on ordinary spread) or it
    is at least `sure_ratio` times the median (the regulators' 2× tier, which holds whatever
    the spread: procurement cuts make peer groups bimodal and MAD wide). MAD is floored at
    `mad_floor` so peers with identical prices do not make every difference infinite.

    Parameters
    ----------
    ratio
        Minimum ratio to the peer median.
    z
        Minimum modified z-score (0.6745 (x - median) / MAD on log daily cost).
    sure_ratio
        Ratio to the peer median that alerts without the z-score.
    mad_floor
        Smallest MAD used, in log units.
    min_peers
        Distinct other manufacturers needed; with fewer, no finding ("insufficient peers").
    z_min_n
        Distinct other manufacturers needed before the z-score path is used (below it, MAD
        from three or four prices is too unsteady and only `sure_ratio` alerts).

    Examples
    --------
    >>> det = PeerOutlier()
    >>> for i, cost in enumerate([4.0, 4.1, 4.3, 3.9, 4.2]):
    ...     det.learn_one({"product_id": f"P{i}", "region": "GD-SZ", "manufacturer": f"M{i}",
    ...                    "dosage_form": "片剂", "daily_cost": [cost, cost]})
    >>> x = {"product_id": "Q", "region": "GD-SZ", "manufacturer": "新厂", "dosage_form": "片剂",
    ...      "daily_cost": [18.4, 18.4]}
    >>> f = det.check_one(x)
    >>> f.severity, f.reference["peer_n"], f.explanation
    ('medium', 5, '日均费用 18.40 元，为同通用名同剂型 5 家企业中位数 4.10 元的 4.5 倍，请核查定价依据。')
    >>> det.describe({**x, "dosage_form": "胶囊剂"})
    'insufficient peers (0 < 3)'
    """

    alert_type = "peer_outlier"

    def __init__(self, ratio: float = 1.5, z: float = 3.5, sure_ratio: float = 2.0, mad_floor: float = 0.1,
                 min_peers: int = 3, z_min_n: int = 5) -> None:
        if not 1 < ratio <= sure_ratio:
            raise ValueError(f"need 1 < ratio <= sure_ratio, got {ratio} and {sure_ratio}")
        if min_peers < 1:
            raise ValueError(f"min_peers must be >= 1, got {min_peers}")
        self.ratio = ratio
        self.z = z
        self.sure_ratio = sure_ratio
        self.mad_floor = mad_floor
        self.min_peers = min_peers
        self.z_min_n = z_min_n
        self._forms: dict[str, dict[tuple[str, str], Entry]] = {}

    def learn_one(self, x: dict[str, Any]) -> None:
        cost = log_mid_cost(x)
        if cost is None:
            return
        bucket = self._forms.setdefault(peer_form(x.get("dosage_form")), {})
        bucket[(x["product_id"], x.get("region") or "")] = (x.get("manufacturer") or "", cost)

    def forget_one(self, x: dict[str, Any]) -> None:
        """Drop the listing of `x` (used for listings whose dose is itself in doubt)."""
        self._forms.get(peer_form(x.get("dosage_form")), {}).pop((x["product_id"], x.get("region") or ""), None)

    def _peers(self, x: dict[str, Any]) -> list[Entry]:
        own = x.get("manufacturer") or ""
        bucket = self._forms.get(peer_form(x.get("dosage_form")), {})
        return [entry for entry in bucket.values() if entry[0] != own]

    def describe(self, x: dict[str, Any]) -> str:
        """Why `x` has or has no finding, in a few words (for logs and the demo)."""
        n = len({m for m, _ in self._peers(x)})
        if n < self.min_peers:
            return f"insufficient peers ({n} < {self.min_peers})"
        return "peer outlier" if self.check_one(x) else f"in line with {n} peers"

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        cost = log_mid_cost(x)
        if cost is None:
            return None
        peers = self._peers(x)
        if len(peers) < self.min_peers:
            return None
        values = [c for _, c in peers]
        z, med, mad = modified_z(cost, values, self.mad_floor)
        ratio = math.exp(cost - med)
        if ratio < self.ratio:
            return None
        n = len({m for m, _ in peers})
        if n < self.min_peers or (ratio < self.sure_ratio and (z < self.z or n < self.z_min_n)):
            return None
        peer_median = math.exp(med)
        return Finding(
            type="peer_outlier", severity=severity_for(ratio), score=round(ratio, 4),
            reference={"peer_median_daily_cost": round(peer_median, 4), "peer_n": n, "peer_listings": len(values),
                       "ratio": round(ratio, 4), "modified_z": round(z, 2), "mad_log": round(mad, 4),
                       "dosage_form": x.get("dosage_form")},
            explanation=(f"日均费用 {yuan(math.exp(cost))}，为同通用名同剂型 {n} 家企业中位数 "
                         f"{yuan(peer_median)}的 {times(ratio)}，请核查定价依据。"),
        )
