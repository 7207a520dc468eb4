"""`peer_outlier`: daily cost far above other manufacturers of the same 通用名 and 剂型."""
from __future__ import annotations

import math
from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import log_mid_cost, median, peer_form, times, yuan
from rules.severity import severity_for

__all__ = ["PeerOutlier"]

Entry = tuple[str, float]  # (manufacturer, log daily cost)
_MAD_TO_SIGMA = 0.6745  # Iglewicz–Hoaglin: modified z = 0.6745 (x - median) / MAD


class PeerOutlier(Detector):
    """A listing's daily cost against the median of its peers, with a robust spread check.

    Peers are the current listings (one per product and region, updated by every price
    change) of *other* manufacturers with the same dosage form; the reference is their median,
    the spread (MAD) is taken over one value per manufacturer (the median of its listings:
    one price decision listed in three regions is one observation, not three, or the spread
    between manufacturers is underestimated); the detector keeps one instance per 通用名. A listing is an outlier when it is at least `ratio` times the peer
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
    isolation
        Log distance (0.2 ≈ 1.22×, twice the ordinary spread `mad_floor`) within which another
        manufacturer's price makes the listing part of a cluster: on the z path, and on the
        `sure_ratio` path with fewer than `z_min_n` manufacturers, a listing with such a
        neighbour is not an outlier (as in `DoseOutlier`, a second, density check must agree).

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

    A price 1.7× the median is an outlier by the z path only when no other manufacturer shares it:

    >>> x17 = {**x, "daily_cost": [7.0, 7.0]}
    >>> det.check_one(x17).reference["modified_z"]
    3.61
    >>> det.learn_one({"product_id": "P9", "region": "GD-SZ", "manufacturer": "M9", "dosage_form": "片剂",
    ...                "daily_cost": [6.5, 6.5]})
    >>> det.check_one(x17) is None
    True
    """

    alert_type = "peer_outlier"

    def __init__(self, ratio: float = 1.5, z: float = 3.5, sure_ratio: float = 2.0, mad_floor: float = 0.1,
                 min_peers: int = 3, z_min_n: int = 5, isolation: float = 0.2) -> None:
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
        self.isolation = isolation
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
        by_maker: dict[str, list[float]] = {}
        for maker, c in peers:
            by_maker.setdefault(maker, []).append(c)
        # The reference is the median listed price; the spread is measured between manufacturers
        # (one value each, the median of its listings): one price decision listed in three
        # regions is one observation, and counting it three times would shrink the MAD.
        values = [median(costs) for costs in by_maker.values()]
        med = median([c for _, c in peers])
        mad = max(median([abs(v - med) for v in values]), self.mad_floor)
        z = _MAD_TO_SIGMA * (cost - med) / mad
        ratio = math.exp(cost - med)
        if ratio < self.ratio:
            return None
        n = len(values)
        sure = ratio >= self.sure_ratio
        if n < self.min_peers or (not sure and (z < self.z or n < self.z_min_n)):
            return None
        # Density check where the evidence is statistical (z path) or the sample tiny: a price
        # that another manufacturer shares belongs to the group's spread, not outside it.
        if (not sure or n < self.z_min_n) and any(abs(cost - v) <= self.isolation for v in values):
            return None
        peer_median = math.exp(med)
        return Finding(
            type="peer_outlier", severity=severity_for(ratio), score=round(ratio, 4),
            reference={"peer_median_daily_cost": round(peer_median, 4), "peer_n": n, "peer_listings": len(peers),
                       "ratio": round(ratio, 4), "modified_z": round(z, 2), "mad_log": round(mad, 4),
                       "dosage_form": x.get("dosage_form")},
            explanation=(f"日均费用 {yuan(math.exp(cost))}，为同通用名同剂型 {n} 家企业中位数 "
                         f"{yuan(peer_median)}的 {times(ratio)}，请核查定价依据。"),
        )
