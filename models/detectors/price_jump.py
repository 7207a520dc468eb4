"""`price_jump`: one abnormal rise of a product's price, or a creeping run of small rises."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from models.detectors.base import Detector, Finding
from models.detectors.robust import yuan
from rules.severity import JUMP_LADDER, severity_for

__all__ = ["PriceJump"]

_FLAT = 1e-3           # |log move| under 0.1 % is no move at all
_MEAN_ABS_TO_SIGMA = 1.25  # mean absolute deviation ≈ 0.8 σ for a normal move distribution
_MIN_SIGMA = 0.01      # a product that never moved still has 1 % typical moves
_GIVE_BACK = 0.25      # a creeping run survives falls that give back at most a quarter of its rises


def _days_between(start: str, end: str) -> float:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 86400
    except (TypeError, ValueError):
        return 0.0


class PriceJump(Detector):
    """A product's price rises, per region, against three lines.

    1. **single**: one rise to at least `ratio` × the previous price (plain threshold);
    2. **model**: a rise of at least `model_ratio` that is `model_z` times the product's own
       typical move, an exponentially weighted mean of its absolute log moves (learned
       online, after `min_history` moves; rises over `model_ratio` are not learned, so a
       jump does not teach the model that jumps are normal);
    3. **creeping**: a run of rises that adds up to `creep_ratio` over at least
       `creep_min_steps` rises, which a per-step check misses. A run is a trend: a fall that
       takes the falls of the run past a quarter of its rises (in log terms), or
       `creep_window_days`, ends it; a smaller fall only pauses it, so a token cut between
       small rises does not reset the count, while a random walk of ordinary moves does not
       add up to a run. Once a run has crossed the line, each further rise in it alerts too.

    Price cuts never alert. The state is a JSON-able dict: `bind` it to the product's stored
    state before use (one product at a time).

    Parameters
    ----------
    ratio
        Single-rise line (multiple of the previous price).
    model_ratio
        Smallest rise the learned-scale path flags.
    model_z
        Rise, in typical moves of this product, for the learned-scale path.
    min_history
        Moves seen before the learned-scale path is used.
    halflife
        Half-life, in moves, of the learned move scale.
    creep_ratio
        Cumulative rise of a run that alerts.
    creep_min_steps
        Rises a run needs before it can alert.
    creep_window_days
        Longest run, in days.

    Examples
    --------
    >>> det = PriceJump().bind({})
    >>> x = {"event_type": "price_change", "region": "GD-SZ", "ts": "2026-03-01T09:00:00+08:00"}
    >>> det.check_one({**x, "prev_price": 25.0, "price": 60.0}).explanation
    'GD-SZ 挂网价由 25.00 元升至 60.00 元，单次涨幅 140%，请核查涨价理由。'
    >>> alerts = []
    >>> for i, (old, new) in enumerate([(20.0, 21.6), (21.6, 23.3), (23.3, 25.2), (25.2, 27.2)]):
    ...     step = {**x, "prev_price": old, "price": new, "ts": f"2026-0{i + 3}-01T09:00:00+08:00"}
    ...     alerts.append(det.check_one(step)); det.learn_one(step)
    >>> [a and a.reference["kind"] for a in alerts]
    [None, None, None, 'creeping']
    >>> det.score_one({**x, "prev_price": 27.2, "price": 15.0})   # a procurement cut
    0.0
    """

    alert_type = "price_jump"

    def __init__(self, ratio: float = 1.3, model_ratio: float = 1.2, model_z: float = 6.0, min_history: int = 5,
                 halflife: float = 20.0, creep_ratio: float = 1.3, creep_min_steps: int = 3,
                 creep_window_days: float = 365.0) -> None:
        if not 1 < model_ratio <= ratio:
            raise ValueError(f"need 1 < model_ratio <= ratio, got {model_ratio} and {ratio}")
        if creep_ratio <= 1:
            raise ValueError(f"creep_ratio must be > 1, got {creep_ratio}")
        self.ratio = ratio
        self.model_ratio = model_ratio
        self.model_z = model_z
        self.min_history = min_history
        self.halflife = halflife
        self.creep_ratio = creep_ratio
        self.creep_min_steps = creep_min_steps
        self.creep_window_days = creep_window_days
        self._alpha = 1 - 0.5 ** (1 / halflife)
        self._state: dict[str, Any] = {}

    def bind(self, state: dict[str, Any]) -> PriceJump:
        """Work on `state` (a product's JSON-able dict, updated in place) from now on."""
        self._state = state
        return self

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _move(x: dict[str, Any]) -> float | None:
        prev, price = x.get("prev_price"), x.get("price")
        if not prev or not price or prev <= 0 or price <= 0:  # a re-listing in the region is a move too
            return None
        return math.log(price / prev)

    def _sigma(self) -> float | None:
        if self._state.get("n", 0) < self.min_history:
            return None
        return max(self._state["scale"] * _MEAN_ABS_TO_SIGMA, _MIN_SIGMA)

    def _is_jump(self, move: float) -> bool:
        sigma = self._sigma()
        return move >= math.log(self.ratio) or (
            sigma is not None and move >= math.log(self.model_ratio) and move / sigma >= self.model_z)

    def _run_after(self, x: dict[str, Any]) -> dict[str, Any]:
        """The region's run of rises as it would be after the rise `x`."""
        run = self._state.get("runs", {}).get(x["region"])
        if run is None or _days_between(run["start"], x.get("ts") or "") > self.creep_window_days:
            return {"base": x["prev_price"], "steps": 1, "start": x.get("ts") or ""}
        return {**run, "steps": run["steps"] + 1}

    def _creeps(self, run: dict[str, Any], price: float) -> bool:
        return run["steps"] >= self.creep_min_steps and price / run["base"] >= self.creep_ratio - 1e-9

    # -- protocol --------------------------------------------------------------------------
    def check_one(self, x: dict[str, Any]) -> Finding | None:
        move = self._move(x)
        if move is None or move <= _FLAT:
            return None
        prev, price, region = x["prev_price"], x["price"], x["region"]
        rise = price / prev
        if self._is_jump(move):
            sigma = self._sigma()
            typical = f"，约为该产品常见波动的 {move / sigma:.0f} 倍" if sigma and rise < self.ratio else ""
            return Finding(
                type="price_jump", severity=severity_for(rise, JUMP_LADDER), score=round(rise, 4),
                reference={"kind": "single", "previous_price": prev, "rise_ratio": round(rise, 4),
                           "typical_move": round(sigma, 4) if sigma else None, "region": region},
                explanation=(f"{region} 挂网价由 {yuan(prev)}升至 {yuan(price)}，单次涨幅 "
                             f"{(rise - 1) * 100:.0f}%{typical}，请核查涨价理由。"),
            )
        run = self._run_after(x)
        if not self._creeps(run, price):
            return None
        total = price / run["base"]
        return Finding(
            type="price_jump", severity=severity_for(total, JUMP_LADDER), score=round(total, 4),
            reference={"kind": "creeping", "run_start_price": run["base"], "previous_price": prev,
                       "rises": run["steps"], "falls": run.get("falls", 0), "run_start": run["start"],
                       "cumulative_ratio": round(total, 4), "region": region},
            explanation=(f"{region} 挂网价自 {run['start'][:10]} 起{'（其间小幅回落）' if run.get('falls') else '连续 '}"
                         f"{run['steps']} 次上涨，由 {yuan(run['base'])}累计升至 {yuan(price)}（累计涨幅 {(total - 1) * 100:.0f}%），"
                         f"单次涨幅不大但累计超过 {(self.creep_ratio - 1) * 100:.0f}%，请核查。"),
        )

    def learn_one(self, x: dict[str, Any]) -> None:
        move = self._move(x)
        if move is None:
            return
        state = self._state
        runs = state.setdefault("runs", {})
        if move > _FLAT:
            if self._is_jump(move):
                runs.pop(x["region"], None)  # a jump is its own finding: creeping starts afresh after it
            else:
                runs[x["region"]] = self._run_after(x)
        elif move < -_FLAT:
            run = runs.get(x["region"])
            given_back = run.get("down", 0.0) if run else 0.0         # log falls inside the run so far
            risen = math.log(x["prev_price"] / run["base"]) + given_back if run else 0.0  # its log rises
            down = given_back - move
            if run is None or down > _GIVE_BACK * risen:
                runs.pop(x["region"], None)  # a trend, not a random walk: falls may give back a quarter
            else:  # a token fall inside the run is a pause: the run goes on from its start
                runs[x["region"]] = {**run, "falls": run.get("falls", 0) + 1, "down": down}
        if abs(move) < math.log(self.model_ratio):  # learn ordinary moves only
            n = state.get("n", 0) + 1
            weight = max(self._alpha, 1 / n)
            state["scale"] = state.get("scale", 0.0) + weight * (abs(move) - state.get("scale", 0.0))
            state["n"] = n
