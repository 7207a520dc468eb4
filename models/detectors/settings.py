"""Every detector threshold and window in one frozen object, each default with its reason.

Lines published by regulators are used where they exist (NHSA's 1.5× consistency line,
the 差比价 rule); elsewhere the defaults are standard robust-statistics choices
(Iglewicz–Hoaglin modified z-score 3.5) or stated project choices. Override a field by
keyword, or from the environment with ``PW_DETECT_<FIELD>`` via `DetectorSettings.from_env`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from typing import Mapping

__all__ = ["DetectorSettings"]


@dataclass(frozen=True, kw_only=True)
class DetectorSettings:
    """Thresholds and windows of the six detectors.

    Examples
    --------
    >>> s = DetectorSettings()
    >>> s.peer_ratio, s.region_ratio, s.min_peers
    (1.5, 1.5, 3)
    >>> DetectorSettings.from_env({"PW_DETECT_MIN_PEERS": "5"}).min_peers
    5
    """

    # -- peer_outlier: daily cost against other manufacturers of the same 通用名 + 剂型
    peer_ratio: float = 1.5        # NHSA 挂网价格一致性: 1.5× the reference (here the peer median) is the alert line
    peer_z: float = 3.5            # Iglewicz–Hoaglin: |modified z| > 3.5 is an outlier; guards wide peer groups …
    peer_sure_ratio: float = 2.0   # … up to the regulators' 2× tier: at twice the median it alerts whatever the spread
    mad_floor: float = 0.1         # log units (≈10 %): list prices of one drug differ by ±10 % as a matter of course;
                                   # a tighter sample spread (few or identical peers) is not evidence of tightness
    min_peers: int = 3             # fewer other manufacturers than this: "insufficient peers", no alert
    peer_z_min_n: int = 5          # the z-score path needs 5 manufacturers: the MAD of 3–4 prices is too unsteady,
                                   # so smaller groups alert from the 2× tier only
    peer_isolation: float = 0.2    # log units (≈1.22×, twice mad_floor): a listing within this of another
                                   # manufacturer is part of a cluster; the z path (and the 2× tier under
                                   # peer_z_min_n manufacturers) needs the listing isolated as well

    # -- price_jump: one abnormal rise, or a creeping run of small ones
    jump_ratio: float = 1.3        # a single rise of ≥30 % alerts: drug list prices move by a few per cent
    creep_ratio: float = 1.3       # a run of small rises adding up to the same 30 % alerts (from the rise that
                                   # crosses it, and every further rise of the run)
    jump_model_ratio: float = 1.2  # the learned-scale path never flags a rise under 20 %
    jump_model_z: float = 6.0      # rise ≥ 6 typical moves of this product (its own learned move scale)
    jump_min_history: int = 5      # moves to see before the learned-scale path is used
    move_halflife: float = 20.0    # moves: half-life of the exponentially weighted move scale
    creep_min_steps: int = 3       # at least three rises in the run, so one or two moves are never "creeping"
    creep_window_days: float = 365.0  # a run older than a year is restarted
    group_move_z: float = 3.5      # group stage: a rise ≥ jump_model_ratio whose modified z (Iglewicz–Hoaglin) among
                                   # the 通用名's recent ordinary moves reaches 3.5 is a jump, history or not
    group_min_moves: int = 10      # moves the group must have made before it judges (a median of fewer is unsteady)
    group_move_window: int = 200   # recent ordinary moves of the group its scale (median |log move|) is taken from

    # -- hidden_increase / ratio_rule_violation: one manufacturer's specs and packs
    hidden_ratio: float = 1.5      # new spec/pack with daily cost ≥1.5× its sibling's (same 1.5× line)
    ratio_tolerance: float = 0.05  # price may exceed the 差比价 ceiling by 5 %: rounding, and packs up to 4× priced
                                   # linearly (a = 2 instead of 1.95 is 2.6 % per doubling)

    # -- cross_region_gap: one product's price across regions
    region_ratio: float = 1.5      # NHSA: the same product ≥1.5× its price in another region
    region_min_rise: float = 1.2   # a price change opens a gap only by a material rise (≥20 %, as jump_model_ratio),
                                   # not by an ordinary move or one step of a creeping run

    # -- dose_outlier: extracted daily dose against the peer group (two independent checks)
    dose_ratio: float = 3.0        # at least 3× (or under 1/3 of) the peer median dose …
    dose_z: float = 3.5            # … and modified z > 3.5 (Iglewicz–Hoaglin) …
    dose_mad_floor: float = 0.1    # log units: identical doses must not make MAD zero
    dose_cluster_eps: float = math.log(2.0)  # … and no dense cluster (DBSCAN, 1-D) within a factor 2
    dose_cluster_min_samples: int = 2        # neighbours needed to belong to a cluster
    dose_min_peers: int = 4        # fewer comparable doses than this: no dose check

    def __post_init__(self) -> None:
        for name in ("peer_ratio", "peer_sure_ratio", "jump_ratio", "jump_model_ratio", "creep_ratio", "hidden_ratio",
                     "region_ratio", "dose_ratio"):
            if getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be > 1, got {getattr(self, name)}")
        if self.region_min_rise < 1.0 or self.ratio_tolerance < 0:
            raise ValueError(f"need region_min_rise >= 1 and ratio_tolerance >= 0, got {self.region_min_rise} "
                             f"and {self.ratio_tolerance}")
        for name in ("min_peers", "peer_z_min_n", "creep_min_steps", "dose_min_peers", "jump_min_history",
                     "group_min_moves", "group_move_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DetectorSettings:
        """Settings with each ``PW_DETECT_<FIELD>`` variable that is set."""
        values = {}
        for f in fields(cls):
            var = f"PW_DETECT_{f.name.upper()}"
            if var in env:
                values[f.name] = (int if f.type in ("int", int) else float)(env[var])
        return cls(**values)
