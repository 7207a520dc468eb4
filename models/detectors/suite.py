"""All six detectors behind the two calls the stream makes: one per product event, one per
peer-group event."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from models.detectors.base import Finding
from models.detectors.cross_region import CrossRegionGap
from models.detectors.dose_outlier import DoseOutlier
from models.detectors.group_moves import GroupMoves
from models.detectors.hidden_increase import HiddenIncrease
from models.detectors.peer_outlier import PeerOutlier
from models.detectors.price_jump import PriceJump
from models.detectors.ratio_rule import RatioRule
from models.detectors.settings import DetectorSettings
from models.detectors.siblings import SiblingBook

__all__ = ["DetectorSuite", "GroupDetectors"]

logger = logging.getLogger(__name__)


def _with_related(primary: Finding | None, secondary: Finding | None) -> Finding | None:
    """`primary`, naming `secondary` (a consequence of the same move) in its reference."""
    if primary is None or secondary is None:
        return primary or secondary
    related = {"type": secondary.type, "severity": secondary.severity, "score": secondary.score,
               "explanation": secondary.explanation}
    return replace(primary, reference={**primary.reference, "related": [related]})


class GroupDetectors:
    """The picklable state of one peer group (通用名): its five group detectors.

    Listings whose dose is an outlier are remembered in `dose_suspects`: their daily cost
    is not a price fact, so it never enters the peer or sibling state.
    """

    def __init__(self, settings: DetectorSettings) -> None:
        s = settings
        self.peer = PeerOutlier(ratio=s.peer_ratio, z=s.peer_z, sure_ratio=s.peer_sure_ratio, mad_floor=s.mad_floor,
                                min_peers=s.min_peers, z_min_n=s.peer_z_min_n, isolation=s.peer_isolation)
        self.siblings = SiblingBook()
        self.hidden = HiddenIncrease(self.siblings, ratio=s.hidden_ratio)
        self.ratio = RatioRule(self.siblings, tolerance=s.ratio_tolerance)
        self.dose = DoseOutlier(ratio=s.dose_ratio, z=s.dose_z, mad_floor=s.dose_mad_floor,
                                eps=s.dose_cluster_eps, min_samples=s.dose_cluster_min_samples,
                                min_peers=s.dose_min_peers)
        self.moves = self._moves(s)
        self.dose_suspects: set[str] = set()

    @staticmethod
    def _moves(s: DetectorSettings) -> GroupMoves:
        return GroupMoves(min_ratio=s.jump_model_ratio, product_ratio=s.jump_ratio, z=s.group_move_z,
                          min_moves=s.group_min_moves, window=s.group_move_window)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A group state pickled before the move model existed starts one, so a restart keeps working.
        self.__dict__.update(state)
        if "moves" not in state:
            self.moves = self._moves(DetectorSettings.from_env())


class DetectorSuite:
    """Runs the detectors on each event, scoring before learning, with one finding per stage.

    Which detectors look at what:

    * product stage (key ``product_id``): ``price_jump`` on price changes (and re-listings in a
      region at a new price), ``cross_region_gap`` on listings and price changes. A rise that is
      both a jump and opens a regional gap raises both alerts: two rules, each with its own
      reference (the previous price; the other region's price).
    * group stage (key ``generic_name``): ``price_jump`` from the group's moves (`GroupMoves`:
      a rise of ≥ ``jump_model_ratio`` that is extreme among the group's recent moves, for
      events the product stage did not already flag as a jump: ``product_alert_types``);
      then, on listings only (price changes just update the state):
      ``dose_outlier`` first (a listing with a doubtful dose gets no price finding), then the
      same manufacturer's siblings (``hidden_increase``, then ``ratio_rule_violation``), then
      ``peer_outlier`` for a manufacturer's first product in the group: a re-listing in another
      region is judged by ``cross_region_gap``, and a manufacturer's further specs and packs
      against its own listing (the sibling checks), unless it costs ≥1.5× as much per day as
      that listing; when a sibling check fires, the peer comparison goes under its
      ``reference["related"]``.

    Parameters
    ----------
    settings
        Thresholds and windows; `DetectorSettings()` by default.

    Examples
    --------
    >>> suite = DetectorSuite()
    >>> state = {}
    >>> listing = {"event_type": "listing", "event_id": "e1", "ts": "2026-01-05T09:00:00+08:00",
    ...            "product_id": "P1", "region": "GD-SZ", "price": 20.0, "prev_price": None}
    >>> suite.on_product_event(listing, state)
    []
    >>> change = {**listing, "event_type": "price_change", "event_id": "e2", "price": 48.0, "prev_price": 20.0}
    >>> [f.type for f in suite.on_product_event(change, state)]
    ['price_jump']
    """

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = s = settings or DetectorSettings()
        self._jump = PriceJump(ratio=s.jump_ratio, model_ratio=s.jump_model_ratio, model_z=s.jump_model_z,
                               min_history=s.jump_min_history, halflife=s.move_halflife,
                               creep_ratio=s.creep_ratio, creep_min_steps=s.creep_min_steps,
                               creep_window_days=s.creep_window_days)
        self._gap = CrossRegionGap(ratio=s.region_ratio, min_rise=s.region_min_rise)

    # -- product stage ---------------------------------------------------------------------
    def on_product_event(self, event: dict[str, Any], product_state: dict[str, Any]) -> list[Finding]:
        """Findings of the product-keyed detectors; their state goes to ``product_state["detect"]``."""
        detect = product_state.setdefault("detect", {})
        jump = self._jump.bind(detect.setdefault("jump", {}))
        gap = self._gap.bind(detect.setdefault("gap", {}))
        findings = [f for f in (jump.check_one(event), gap.check_one(event)) if f]
        jump.learn_one(event)
        gap.learn_one(event)
        return findings

    # -- group stage -----------------------------------------------------------------------
    def new_group_state(self) -> GroupDetectors:
        """Fresh, picklable state for one peer group."""
        return GroupDetectors(self.settings)

    def on_group_event(self, event: dict[str, Any], group_state: GroupDetectors) -> list[Finding]:
        """Findings of the group-keyed detectors; `group_state` is updated in place."""
        g = group_state
        pid = event["product_id"]
        move = g.moves.check_one(event)  # a price change, or a re-listing in a region at a new price
        g.moves.learn_one(event)
        moved = [move] if move else []
        if event.get("event_type") != "listing":
            if pid not in g.dose_suspects:
                g.peer.learn_one(event)
                g.siblings.learn_one(event)
            return moved
        finding = g.dose.check_one(event)
        g.dose.learn_one(event)
        if finding is not None:
            g.dose_suspects.add(pid)
            g.peer.forget_one(event)
            return [finding] + moved
        g.dose_suspects.discard(pid)
        sibling = g.hidden.check_one(event) or g.ratio.check_one(event)
        first = pid not in g.siblings and not g.siblings.lists_manufacturer(event)
        peer = g.peer.check_one(event) if sibling or first or self._dearer_than_siblings(event, g) else None
        if first and peer is None and logger.isEnabledFor(logging.DEBUG):  # e.g. "insufficient peers (2 < 3)"
            logger.debug("peer check of %s: %s", event.get("event_id"), g.peer.describe(event))
        g.siblings.learn_one(event)
        g.peer.learn_one(event)
        finding = _with_related(sibling, peer) if sibling else peer
        return ([finding] if finding else []) + moved

    def _dearer_than_siblings(self, event: dict[str, Any], g: GroupDetectors) -> bool:
        """A new product of a listed manufacturer that costs far more per day than its own
        closest listing: compared with the other manufacturers after all."""
        if event["product_id"] in g.siblings:
            return False
        sibling = g.siblings.nearest(event)
        return bool(sibling and sibling["cost_ratio"] and sibling["cost_ratio"] >= self.settings.hidden_ratio)
