"""`price_jump` from the peer group's moves: a moderate rise that is extreme for the group."""
from __future__ import annotations

import math
from typing import Any

from river import stats

from models.detectors.base import Detector, Finding
from models.detectors.robust import yuan
from rules.severity import JUMP_LADDER, severity_for

__all__ = ["GroupMoves"]

_MAD_TO_SIGMA = 0.6745  # Iglewicz–Hoaglin: modified z = 0.6745 (x - median) / MAD
_MIN_MAD = 0.005        # a group whose list prices barely move still moves by ±0.5 %
_FLAT = 1e-3            # |log move| under 0.1 % is no move at all


class GroupMoves(Detector):
    """A rise of at least `min_ratio` that is extreme among the price moves of the whole 通用名.

    `PriceJump` judges a rise against the product's own history, so a product without history
    (or with too few moves) is judged by the plain line only. Products of one 通用名 move
    alike (tenders, procurement rounds, raw-material costs), so the group's recent moves
    say what an ordinary move is: the detector keeps the median absolute log move (the MAD of
    moves centred on no change) of the group's last `window` ordinary moves
    (`river.stats.RollingQuantile`; moves of `min_ratio` or more either way are not learned,
    so a jump does not teach it that jumps are normal and a procurement cut does not widen
    it) and flags a rise whose modified z-score, ``0.6745 · log(rise) / MAD``, reaches `z`
    (Iglewicz–Hoaglin's 3.5) once `min_moves` moves are known. Learning both directions
    doubles the sample: the group is judged sooner.

    The product stage already flags every rise of `product_ratio` or more and may flag a
    moderate rise from the product's own history or a creeping run; an alert id is
    ``sha256(event_id|type)``, so this detector stays quiet for any event whose
    ``product_alert_types`` include ``price_jump``, and for any rise of `product_ratio` or more
    (re-derived, for group events that do not carry the product stage's types).

    Parameters
    ----------
    min_ratio
        Smallest rise flagged (a rise under 20 % is never a jump).
    product_ratio
        The product stage's single-rise line (`DetectorSettings.jump_ratio`).
    z
        Modified z-score of the rise against the group's moves.
    min_moves
        Ordinary moves the group must have made before it judges.
    window
        Recent ordinary moves the group's scale is taken from.

    Examples
    --------
    >>> det = GroupMoves()
    >>> x = {"event_type": "price_change", "region": "GD-SZ", "product_id": "P1"}
    >>> for i in range(30):
    ...     det.learn_one({**x, "prev_price": 10.0, "price": 10.2 if i % 2 else 9.8})
    >>> f = det.check_one({**x, "prev_price": 20.0, "price": 25.0})
    >>> f.type, f.reference["kind"], f.explanation
    ('price_jump', 'group_model', 'GD-SZ 挂网价由 20.00 元升至 25.00 元，涨幅 25%，远超同通用名产品近期的常见调价幅度（约 2%），请核查涨价理由。')
    >>> det.score_one({**x, "prev_price": 20.0, "price": 25.0, "product_alert_types": ["price_jump"]})
    0.0
    >>> det.score_one({**x, "prev_price": 20.0, "price": 30.0})   # the product stage's own line
    0.0
    """

    alert_type = "price_jump"

    def __init__(self, min_ratio: float = 1.2, product_ratio: float = 1.3, z: float = 3.5, min_moves: int = 10,
                 window: int = 200) -> None:
        if not 1 < min_ratio <= product_ratio:
            raise ValueError(f"need 1 < min_ratio <= product_ratio, got {min_ratio} and {product_ratio}")
        if min_moves < 1 or window < min_moves:
            raise ValueError(f"need 1 <= min_moves <= window, got {min_moves} and {window}")
        self.min_ratio = min_ratio
        self.product_ratio = product_ratio
        self.z = z
        self.min_moves = min_moves
        self.window = window
        self._moves = stats.RollingQuantile(q=0.5, window_size=window)
        self._n = 0
        self._low, self._high = math.log(min_ratio), math.log(product_ratio)

    @staticmethod
    def _move(x: dict[str, Any]) -> float | None:
        prev, price = x.get("prev_price"), x.get("price")
        if not prev or not price or prev <= 0 or price <= 0:
            return None
        return math.log(price / prev)

    def check_one(self, x: dict[str, Any]) -> Finding | None:
        move = self._move(x)
        if move is None or not self._low <= move < self._high or self._n < self.min_moves:
            return None
        if "price_jump" in (x.get("product_alert_types") or ()):
            return None
        mad = max(self._moves.get() or 0.0, _MIN_MAD)
        z = _MAD_TO_SIGMA * move / mad
        if z < self.z:
            return None
        prev, price, region = x["prev_price"], x["price"], x.get("region")
        rise = price / prev
        return Finding(
            type="price_jump", severity=severity_for(rise, JUMP_LADDER), score=round(rise, 4),
            reference={"kind": "group_model", "previous_price": prev, "rise_ratio": round(rise, 4),
                       "group_mad_move": round(math.exp(mad) - 1, 4), "modified_z": round(z, 2),
                       "group_moves": self._n, "region": region},
            explanation=(f"{region} 挂网价由 {yuan(prev)}升至 {yuan(price)}，涨幅 {(rise - 1) * 100:.0f}%，"
                         f"远超同通用名产品近期的常见调价幅度（约 {(math.exp(mad) - 1) * 100:.0f}%），请核查涨价理由。"),
        )

    def learn_one(self, x: dict[str, Any]) -> None:
        move = self._move(x)
        if move is None or not _FLAT < abs(move) < self._low:
            return  # no move, or a jump or a deep (procurement) cut: not an ordinary move
        self._moves.update(abs(move))
        self._n += 1
