"""An independent labeled feed for the alert detectors, written apart from `stream.simulator`.

The team's simulator and the detectors come from one hand, so a perfect score on it proves
little. This generator uses its own conventions, chosen from the issue's description of the
patterns rather than from the detectors' code:

* groups of 4–25 manufacturers (and "small groups" of 2–3), log-normal price dispersion
  between manufacturers with a per-group sigma of 0.15–0.35, truncated at 2 sigma and at
  1.45× the group's centre (beyond the NHSA 1.5× line a manufacturer *is* an outlier, so
  it cannot be a negative);
* its own regions, timestamps in UTC (``+00:00``), spec spellings (``0.25g×24片``, ``每片含0.25g``
  with the count in ``package``), usage texts written per group in a few wordings, some counted
  in tablets (一次2片) and some in mass (一次0.5g); a fifth of the listings leave ``pack_qty``
  and ``min_unit`` to be read from the spec or package.

Positives (truth ``type``) and how they are made:

====================  ==========================================================================
case                  what happens
====================  ==========================================================================
peer_outlier          a new manufacturer lists at 2.2–6× the group's current median daily cost
price_jump            one price change of +35 % … +300 %
moderate_jump         one price change of +22 … +29 % late in the year, in a group whose ordinary
                      moves are within ±6 % (``price_jump``: abnormal for the group's moves,
                      though under the plain +30 % line)
creeping              4–8 rises of 4–9 % each, 8–30 days apart, in one product-region that sees
                      no jump or cut (and, for half the runs, no ordinary move either). Labeled ``price_jump`` from the step where the cumulative
                      rise of the region's run of rises reaches +30 % (a run begins with a rise,
                      an ordinary rise just before the creep included, and ends when a fall
                      takes the price back to where it began, a smaller fall only pauses it, and
                      a jump of +30 % starts a fresh one), and every later step (an analyst
                      wants each further rise of a run already over the line); the
                      steps before are ``creep_below_line`` (null). A run of 4 small rises may
                      never reach +30 %: then none of it is positive.
cross_region_listing  a product listed in a further region at 1.6–3.5× its cheapest region
                      (``cross_region_gap``)
cross_region_raise    one region's price raised to 1.6–3× the product's cheapest other region
                      (``cross_region_gap``; the rise is usually a jump as well: both are right)
hidden_increase       the same manufacturer lists a pack with 1/2–1/4 of the units (or, for
                      mass-dosed groups, half the strength) at 0.8–1.15× the old pack price, so
                      the price per unit is ≥1.6× the old one
ratio_rule_violation  the same manufacturer lists a 2–4× pack priced 1.2–2× over
                      ``price × 1.95 ** log2(X)`` (差比价, pack count of oral solids)
dose_outlier          a new manufacturer whose usage text states 10× the group's dose, priced
                      in line
====================  ==========================================================================

Hard negatives (`HARD_NEGATIVES`, null type): ``price_cut`` (10–60 %, a procurement round:
some manufacturers in all their regions), ``ordinary_move`` (within ±6 %; ordinary moves
never add up: a rise that would take the region's run of rises past +15 % is made a fall),
``new_in_line`` (a new manufacturer within ±20 % of the median), ``bigger_pack_under_rule``
(a 2–4× pack priced at 0.7–0.98 of the 差比价 ceiling), ``relist_similar`` (a further region
within 0.9–1.15× of the cheapest), ``small_group`` (every listing of a group of 2–3
manufacturers, one of them 2–4× the others).

``generate(seed)`` returns ``(events, truth)`` in the feed format of EVENTS.md.
"""
from __future__ import annotations

import heapq
import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

__all__ = ["generate", "HARD_NEGATIVES", "REGIONS"]

REGIONS = ("SH", "HB-WH", "HN-CS", "SD-JN", "FJ-XM", "CQ", "TJ", "YN-KM")
HARD_NEGATIVES = frozenset({"price_cut", "ordinary_move", "new_in_line", "bigger_pack_under_rule",
                            "relist_similar", "small_group"})
_T0 = datetime(2025, 7, 1, 0, 0, tzinfo=timezone.utc)
_DATA = Path(__file__).resolve().parents[2] / "data"
_IN_LINE = math.log(1.45)  # an ordinary manufacturer's distance from the group centre, at most
_COUNTS = (12, 18, 24, 30, 36, 48, 60)
_WORDINGS = ("口服。一次{d}，一日{t}次。", "口服，一次{d}，一日{t}次，饭后服用。", "温开水送服。一次{d}，一日{t}次。",
             "口服。成人一次{d}，一日{t}次；或遵医嘱。")
_PATTERNS = ("peer_outlier", "price_jump", "moderate_jump", "creeping", "cross_region_listing", "cross_region_raise",
             "hidden_increase", "ratio_rule_violation", "dose_outlier")


@dataclass
class _Drug:
    name: str
    form: str
    unit: str           # 片 or 粒
    strength_mg: float
    by_mass: bool       # usage written in g/mg (一次0.5g) rather than in units (一次2片)
    per_dose: int       # units a dose
    times: int          # doses a day
    day_price: float    # the group's centre: CNY a day


@dataclass
class _Product:
    pid: str
    maker: str
    count: int
    strength_mg: float
    usage: str
    units_a_day: float
    level_day: float = 0.0  # CNY a day at the manufacturer's price level
    prices: dict[str, float] = field(default_factory=dict)
    run_start: dict[str, float] = field(default_factory=dict)  # region -> price the current run of rises began at
    main: bool = True   # the manufacturer's first pack: the peer reference


def _names(rng: random.Random) -> list[tuple[str, str, float]]:
    """(generic name, form, strength in mg) of oral solids in the price sample."""
    found: dict[str, tuple[str, str, float]] = {}
    for line in open(_DATA / "prices_sample.jsonl", encoding="utf-8"):
        row = json.loads(line)
        form = (row.get("dosage_form") or "").strip()
        m = re.match(r"^(\d+(?:\.\d+)?)(mg|g)", row.get("spec") or "")
        if m and ("片" in form or "胶囊" in form) and "缓释" not in form and "肠溶" not in form:
            name = re.sub(r"[(（].*$", "", row["name"]).strip()
            found.setdefault(name, (name, "胶囊剂" if "胶囊" in form else "片剂",
                                    float(m.group(1)) * (1000 if m.group(2) == "g" else 1)))
    names = sorted(found.values())
    rng.shuffle(names)
    return names


def _amount(mg: float) -> str:
    return f"{mg / 1000:g}g" if mg >= 100 else f"{mg:g}mg"


class _Feed:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"independent-{seed}")
        self.seed = seed
        self.todo: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = 0
        self.rows: list[tuple[float, int, str, dict[str, Any], str | None, str]] = []
        self.makers = [f"{c}{k}制药有限公司" for c in "华康泰安瑞恒远嘉信德" for k in ("医药", "生物", "药业")]

    # -- output ----------------------------------------------------------------------------
    def later(self, day: float, act: Callable[[float], None]) -> None:
        self._order += 1
        heapq.heappush(self.todo, (day, self._order, act))

    def _row(self, day: float, topic: str, value: dict[str, Any], kind: str | None, case: str) -> None:
        self.rows.append((day, len(self.rows), topic, value, kind, case))

    def usage(self, drug: _Drug, scale: float = 1.0) -> str:
        dose = (_amount(drug.per_dose * drug.strength_mg * scale) if drug.by_mass
                else f"{drug.per_dose * scale:g}{drug.unit}")
        return self.rng.choice(_WORDINGS).format(d=dose, t=drug.times)

    def list(self, day: float, drug: _Drug, p: _Product, region: str, price: float, kind: str | None,
             case: str) -> None:
        price = round(price, 2)
        p.prices[region] = price
        p.run_start.pop(region, None)
        strength = _amount(p.strength_mg)
        if self.rng.random() < 0.5:
            spec, package = f"{strength}×{p.count}{drug.unit}", f"铝塑板装，{p.count}{drug.unit}/盒"
        else:
            spec, package = f"每{drug.unit}含{strength}", f"{p.count}{drug.unit}/盒"
        value = {"product_id": p.pid, "region": region, "generic_name": drug.name, "manufacturer": p.maker,
                 "dosage_form": drug.form, "spec": spec, "package": package, "pack_qty": p.count,
                 "min_unit": drug.unit, "pack_unit": "盒", "usage": p.usage, "price": price}
        if self.rng.random() < 0.2:
            del value["pack_qty"], value["min_unit"]
        self._row(day, "drug.listings", value, kind, case)

    def change(self, day: float, p: _Product, region: str, factor: float, kind: str | None, case: str) -> None:
        old = p.prices[region]
        new = round(old * factor, 2)
        if new == old:
            new = round(old + (0.01 if factor > 1 else -0.01), 2)
        p.prices[region] = new
        if new >= 1.3 * old:
            p.run_start.pop(region, None)  # a jump is its own finding: a run of small rises starts afresh after it
        elif new > old:
            p.run_start.setdefault(region, old)
        elif new <= p.run_start.get(region, 0.0):
            p.run_start.pop(region, None)  # a fall back to where the run began ends it; a smaller one pauses it
        self._row(day, "drug.price-changes", {"product_id": p.pid, "region": region, "new_price": new,
                                              "old_price": old, "reason": "价格调整"}, kind, case)

    # -- one group -------------------------------------------------------------------------
    def group(self, g: int, name: tuple[str, str, float], small: bool) -> None:
        rng = self.rng
        generic, form, strength = name
        unit = "粒" if form == "胶囊剂" else "片"
        drug = _Drug(generic, form, unit, strength, rng.random() < 0.35, rng.choice((1, 2, 2, 3, 4)),
                     rng.choice((2, 3, 3)), rng.lognormvariate(math.log(3.0), 0.8))
        sigma = rng.uniform(0.15, 0.35)
        makers = rng.sample(self.makers, 26)
        n = rng.randint(2, 3) if small else rng.randint(4, 25)
        ctx: dict[str, Any] = {"drug": drug, "g": g, "makers": makers, "next": n, "products": [],
                               "reserved": set(), "quiet": set(), "spent": set()}
        for i in range(n):
            level = self.in_line_level(sigma)
            if small and i == n - 1:
                level = rng.uniform(2.0, 4.0)
            p = self.product(ctx, makers[i], rng.choice(_COUNTS), level_day=drug.day_price * level)
            ctx["products"].append(p)
            first, start = rng.uniform(0, 30), self.start_price(p)
            for k, region in enumerate(rng.sample(REGIONS, rng.randint(1, 3))):
                regional = math.exp(max(-0.06, min(0.06, rng.gauss(0, 0.03))))
                self.later(first + rng.uniform(1, 6) * k, lambda day, p=p, r=region, price=start * regional: self.list(
                    day, drug, p, r, price, None, "small_group" if small else "baseline"))
        if small:
            return
        for pattern in rng.sample(_PATTERNS, rng.choice((2, 3))):
            # a run of up to 8 steps fits the year; a moderate jump comes once the group has moved a while
            when = {"creeping": rng.uniform(45, 100), "moderate_jump": rng.uniform(200, 360)}.get(pattern, rng.uniform(45, 330))
            self.later(when, lambda day, pat=pattern: getattr(self, pat)(ctx, day))
        for negative in rng.sample(("new_in_line", "bigger_pack_under_rule", "relist_similar"), 2):
            self.later(rng.uniform(45, 330), lambda day, neg=negative: getattr(self, neg)(ctx, day))
        if rng.random() < 0.4:
            self.later(rng.uniform(45, 330), lambda day: self.price_cut(ctx, day))
        for p in ctx["products"]:
            for _ in range(rng.randint(1, 6)):
                self.later(rng.uniform(40, 364), lambda day, p=p: self.ordinary_move(ctx, p, day))

    def in_line_level(self, sigma: float) -> float:
        """A manufacturer's price level: log-normal, truncated (redrawn, not clipped, so no mass
        piles up at the edge) to 2 sigma and to the 1.45× band around the group's centre."""
        while True:
            draw = self.rng.gauss(0, sigma)
            if abs(draw) <= min(2 * sigma, _IN_LINE):
                return math.exp(draw)

    def product(self, ctx: dict[str, Any], maker: str, count: int, *, level_day: float, strength_scale: float = 1.0,
                dose_scale: float = 1.0, main: bool = True) -> _Product:
        drug = ctx["drug"]
        strength = drug.strength_mg * strength_scale
        units = drug.per_dose * drug.times * (1 / strength_scale if drug.by_mass else 1.0) * dose_scale
        p = _Product(f"X{self.seed}-{ctx['g']:02d}-{ctx['makers'].index(maker):02d}-{count}-{strength:g}", maker,
                     count, strength, self.usage(drug, dose_scale), units, level_day, main=main)
        return p

    @staticmethod
    def start_price(p: _Product) -> float:
        return p.level_day * p.count / p.units_a_day

    def median_day_cost(self, ctx: dict[str, Any]) -> float:
        costs = sorted(price / p.count * p.units_a_day for p in ctx["products"] for price in p.prices.values())
        return costs[len(costs) // 2]

    def listed(self, ctx: dict[str, Any]) -> list[_Product]:
        return [p for p in ctx["products"] if p.main and p.prices]

    def newcomer(self, ctx: dict[str, Any], day: float, factor: float, kind: str | None, case: str,
                 dose_scale: float = 1.0) -> None:
        if ctx["next"] >= len(ctx["makers"]):
            return
        maker = ctx["makers"][ctx["next"]]
        ctx["next"] += 1
        level = self.median_day_cost(ctx) * factor
        p = self.product(ctx, maker, self.rng.choice(_COUNTS), level_day=level, dose_scale=dose_scale)
        if dose_scale != 1.0:  # the text is wrong, the price is ordinary: price it at the true dose
            p.units_a_day /= dose_scale
            price = self.start_price(p)
            p.units_a_day *= dose_scale
        else:
            price = self.start_price(p)
        self.list(day, ctx["drug"], p, self.rng.choice(REGIONS), price, kind, case)
        if dose_scale == 1.0:
            ctx["products"].append(p)
        ctx["spent"].add(p.pid)

    # -- positives -------------------------------------------------------------------------
    def peer_outlier(self, ctx: dict[str, Any], day: float) -> None:
        self.newcomer(ctx, day, self.rng.uniform(2.2, 6.0), "peer_outlier", "peer_outlier")

    def dose_outlier(self, ctx: dict[str, Any], day: float) -> None:
        self.newcomer(ctx, day, self.rng.uniform(0.85, 1.15), "dose_outlier", "dose_outlier", dose_scale=10.0)

    def price_jump(self, ctx: dict[str, Any], day: float) -> None:
        spots = [(p, r) for p in self.listed(ctx) for r in p.prices if (p.pid, r) not in ctx["reserved"]]
        p, region = self.rng.choice(spots)
        self.change(day, p, region, self.rng.uniform(1.35, 4.0), "price_jump", "price_jump")

    def moderate_jump(self, ctx: dict[str, Any], day: float) -> None:
        spots = [(p, r) for p in self.listed(ctx) for r in p.prices if (p.pid, r) not in ctx["reserved"]]
        p, region = self.rng.choice(spots)
        self.change(day, p, region, self.rng.uniform(1.22, 1.29), "price_jump", "moderate_jump")

    def creeping(self, ctx: dict[str, Any], day: float) -> None:
        spots = [(p, r) for p in self.listed(ctx) for r in p.prices if (p.pid, r) not in ctx["reserved"]]
        p, region = self.rng.choice(spots)
        ctx["reserved"].add((p.pid, region))  # no jump or cut in it
        if self.rng.random() < 0.5:  # half the runs see no other move; in the rest ordinary moves go on
            ctx["quiet"].add((p.pid, region))
        when = day
        for _ in range(self.rng.randint(4, 8)):
            when += self.rng.uniform(8, 30)
            self.later(when, lambda d: self.change(d, p, region, self.rng.uniform(1.04, 1.09), None, "creep_below_line")
                       or self._label_creep(p, region))

    def _label_creep(self, p: _Product, region: str) -> None:
        """Label the step just emitted when its run of rises (ordinary ones included) is up 30 %."""
        if p.prices[region] / p.run_start.get(region, p.prices[region]) >= 1.3 - 1e-9:
            day, order, topic, value, _, _ = self.rows[-1]
            self.rows[-1] = (day, order, topic, value, "price_jump", "creeping")

    def cross_region_listing(self, ctx: dict[str, Any], day: float) -> None:
        self._new_region(ctx, day, (1.6, 3.5), "cross_region_gap", "cross_region_listing")

    def relist_similar(self, ctx: dict[str, Any], day: float) -> None:
        self._new_region(ctx, day, (0.9, 1.15), None, "relist_similar")

    def _new_region(self, ctx: dict[str, Any], day: float, gap: tuple[float, float], kind: str | None,
                    case: str) -> None:
        spots = [p for p in self.listed(ctx) if len(p.prices) < len(REGIONS)]
        p = self.rng.choice(spots)
        region = self.rng.choice([r for r in REGIONS if r not in p.prices])
        self.list(day, ctx["drug"], p, region, min(p.prices.values()) * self.rng.uniform(*gap), kind, case)

    def cross_region_raise(self, ctx: dict[str, Any], day: float) -> None:
        spots = [(p, r) for p in self.listed(ctx) if len(p.prices) >= 2 for r in p.prices
                 if (p.pid, r) not in ctx["reserved"] and p.prices[r] < 1.25 * min(
                     v for o, v in p.prices.items() if o != r)]  # a gap another region's cut left is not opened
        if not spots:  # list a second region in line first, then raise one
            p = self.rng.choice(self.listed(ctx))
            region = self.rng.choice([r for r in REGIONS if r not in p.prices])
            self.list(day, ctx["drug"], p, region, min(p.prices.values()) * self.rng.uniform(0.95, 1.05),
                      None, "relist_similar")
            self.later(day + self.rng.uniform(5, 20), lambda d: self._raise(ctx, d, [(p, region)]))
            return
        self._raise(ctx, day, spots)

    def _raise(self, ctx: dict[str, Any], day: float, spots: list[tuple[_Product, str]]) -> None:
        p, region = self.rng.choice(spots)
        cheapest = min(v for r, v in p.prices.items() if r != region)
        target = cheapest * self.rng.uniform(1.6, 3.0)
        self.change(day, p, region, target / p.prices[region], "cross_region_gap", "cross_region_raise")

    def _own_base(self, ctx: dict[str, Any]) -> _Product | None:
        free = [p for p in self.listed(ctx) if p.pid not in ctx["spent"]]
        if not free:
            return None
        base = self.rng.choice(free)
        ctx["spent"].add(base.pid)
        return base

    def hidden_increase(self, ctx: dict[str, Any], day: float) -> None:
        base = self._own_base(ctx)
        if base is None:
            return
        region = self.rng.choice(list(base.prices))
        drug = ctx["drug"]
        shrinks = [d for d in (2, 3, 4) if base.count % d == 0 and base.count // d >= 6]
        if drug.by_mass and (not shrinks or self.rng.random() < 0.5):  # half the strength, same count
            p = self.product(ctx, base.maker, base.count, level_day=0, strength_scale=0.5, main=False)
            shrink = 2.0
        else:
            shrink = self.rng.choice(shrinks or [2])
            p = self.product(ctx, base.maker, base.count // shrink, level_day=0, main=False)
        pack = self.rng.uniform(max(0.8, 1.6 / shrink), 1.15)
        self.list(day, drug, p, region, base.prices[region] * pack, "hidden_increase", "hidden_increase")

    def ratio_rule_violation(self, ctx: dict[str, Any], day: float) -> None:
        self._bigger_pack(ctx, day, (1.2, 2.0), "ratio_rule_violation", "ratio_rule_violation")

    def bigger_pack_under_rule(self, ctx: dict[str, Any], day: float) -> None:
        self._bigger_pack(ctx, day, (0.7, 0.98), None, "bigger_pack_under_rule")

    def _bigger_pack(self, ctx: dict[str, Any], day: float, over: tuple[float, float], kind: str | None,
                     case: str) -> None:
        base = self._own_base(ctx)
        if base is None:
            return
        region = self.rng.choice(list(base.prices))
        x = self.rng.choice((2, 3, 4))
        p = self.product(ctx, base.maker, base.count * x, level_day=0, main=False)
        ceiling = base.prices[region] * 1.95 ** math.log2(x)  # 差比价: pack count of oral solids
        self.list(day, ctx["drug"], p, region, ceiling * self.rng.uniform(*over), kind, case)
        ctx["products"].append(p)

    # -- hard negatives --------------------------------------------------------------------
    def new_in_line(self, ctx: dict[str, Any], day: float) -> None:
        self.newcomer(ctx, day, self.rng.uniform(0.8, 1.2), None, "new_in_line")

    def price_cut(self, ctx: dict[str, Any], day: float) -> None:
        listed = self.listed(ctx)
        for i, p in enumerate(self.rng.sample(listed, max(1, len(listed) // 3))):
            cut = self.rng.uniform(0.4, 0.9)
            for region in list(p.prices):
                if (p.pid, region) not in ctx["reserved"]:
                    self.change(day + 0.01 * i, p, region, cut * self.rng.uniform(0.98, 1.02), None, "price_cut")

    def ordinary_move(self, ctx: dict[str, Any], p: _Product, day: float) -> None:
        regions = [r for r in p.prices if (p.pid, r) not in ctx["quiet"]]
        if not regions:
            return
        region = self.rng.choice(regions)
        step = self.rng.uniform(0.003, 0.06)
        start = p.run_start.get(region, p.prices[region])
        up = self.rng.random() < 0.5 and p.prices[region] * (1 + step) < 1.15 * start  # ordinary moves never add up
        self.change(day, p, region, 1 + step if up else 1 - step, None, "ordinary_move")

    # -- running ---------------------------------------------------------------------------
    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        while self.todo:
            day, _, act = heapq.heappop(self.todo)
            act(day)
        events, truth = [], []
        for number, (day, _, topic, value, kind, case) in enumerate(sorted(self.rows, key=lambda r: (r[0], r[1]))):
            event_id = f"ind{self.seed}-{number:05d}"
            ts = (_T0 + timedelta(days=day)).isoformat(timespec="seconds")
            events.append({"topic": topic, "key": value["product_id"], "value": {"event_id": event_id, "ts": ts, **value}})
            truth.append({"event_id": event_id, "type": kind, "case": case})
        return events, truth


def generate(seed: int, *, n_groups: int = 45, small_share: float = 0.15) -> tuple[list[dict[str, Any]],
                                                                                  list[dict[str, Any]]]:
    """A labeled feed: ``(events, truth)``, `n_groups` groups of which a `small_share` have 2–3 makers.

    Examples
    --------
    >>> events, truth = generate(0, n_groups=4)
    >>> len(events) == len(truth) > 0, events[0]["topic"], events[0]["value"]["ts"].endswith("+00:00")
    (True, 'drug.listings', True)
    """
    feed = _Feed(seed)
    names = _names(feed.rng)
    for g in range(n_groups):
        feed.group(g, names[g % len(names)], feed.rng.random() < small_share)
    return feed.run()
