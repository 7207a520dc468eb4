"""A realistic, labeled feed for evaluating the alert detectors (`pricewatch simulate`).

Built on real data: generic names, dosage forms, specs, pack prices and manufacturers from
``data/prices_sample.jsonl`` (tablets, capsules and granules) and 用法用量 texts from
``data/inserts_dev.jsonl`` (only texts whose daily count the rule engine reads, so every
injected pattern shows in daily cost: 一次2片 for tablets, 一次10g for granules, whose
sachet then holds the dose or half of it).

Each peer group (one 通用名) gets baseline listings (several manufacturers, each in one to
three regions), then a year of price changes and new listings in which the six alert
patterns and the hard negatives are injected at random times:

====================  ===========================================================================
case                  what happens (truth ``type``)
====================  ===========================================================================
peer_outlier          a new manufacturer lists at 2–6× the current peer median (peer_outlier)
price_jump            one rise to 1.35–4× the previous price (price_jump)
creeping              a fall, then rises of 6–11 % each; the rise that takes the run to +30 %
                      and the 0–2 rises after it are labeled (price_jump); the rises before it
                      are ``creep_step`` (null: no single step is anomalous yet)
hidden_increase       the manufacturer re-lists a half or third pack (granules: or half-filled
                      sachets) at about the old pack price
ratio_rule_violation  the manufacturer lists a 2× or 3× pack (granules: or a 2× fill) 20–45 % over
                      the 差比价 ceiling
cross_region_gap      a product is listed in a new region at 1.6–3.5× its cheapest region
dose_outlier          a new manufacturer's insert text has a slipped digit (一次2片 → 一次20片, 5g → 50g)
small_move            hard negative: ±0.5–5 % price change
procurement_cut       hard negative: a 30–80 % price cut (集采)
new_in_line           hard negative: a new manufacturer priced within ±25 % of the peers
pack_within_rule      hard negative: a bigger (or smaller) pack or fill priced within the 差比价 rule
relist_in_line        hard negative: a product listed in a new region at a similar price
cold_start            hard negative: a group of two manufacturers, one 2.5–4× the other
====================  ===========================================================================

About 30 % of listings leave ``pack_qty``/``min_unit`` out, to be read from the spec. Event
ids, product ids and prices are reproducible from the seed (for one version of the dose
engine, which picks the usable insert texts).
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
from typing import Any, Callable, Final, Iterable

__all__ = ["simulate", "write_simulation", "HARD_NEGATIVES", "REGIONS", "Simulation"]

REGIONS: Final = ("GD-SZ", "GD-GZ", "ZJ-HZ", "JS-NJ", "SC-CD", "BJ")
HARD_NEGATIVES: Final = frozenset(
    {"small_move", "procurement_cut", "new_in_line", "pack_within_rule", "relist_in_line", "cold_start"})
_TZ: Final = timezone(timedelta(hours=8))
_START: Final = datetime(2026, 1, 1, 8, 0, tzinfo=_TZ)
_DATA: Final = Path(__file__).resolve().parent.parent / "data"
_SPEC: Final = re.compile(r"^(\d+(?:\.\d+)?)(mg|g)\*(\d+)(片|粒|s)\s*$")
_SIMPLE_USAGE: Final = re.compile(r"一次\s*(\d+)\s*(片|粒)\s*[，,]\s*一日\s*(\d)\s*次")
_MASS_USAGE: Final = re.compile(r"一次\s*(\d+(?:\.\d+)?)\s*(g)\s*[，,]\s*一日\s*(\d)\s*次")
_GRANULE_SPEC: Final = re.compile(r"^(\d+(?:\.\d+)?)(g)\*(\d+)(袋)\s*$")
_ORAL_FORMS: Final = ("片", "胶囊", "颗粒")
_MFR_SPREAD: Final = 0.12   # log-sd of manufacturers' prices around the group's (in-line spread)
_REGION_SPREAD: Final = 0.03
_NO_PACK_FIELDS: Final = 0.3  # share of listings without pack_qty/min_unit (EVENTS.md: read them from the spec)


@dataclass
class Simulation:
    """The feed (``events.jsonl`` lines) and the truth (``truth.jsonl`` lines)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Drug:
    name: str
    form: str
    strength: str      # "0.25g"
    count: int         # units in the reference pack
    unit: str          # 片 or 粒
    unit_price: float  # CNY per unit
    manufacturer: str
    usage: str


@dataclass
class _Product:
    pid: str
    manufacturer: str
    count: int
    usage: str
    fill: str = ""       # amount in one unit as printed in the spec ("0.25g", "5g")
    prices: dict[str, float] = field(default_factory=dict)  # region -> current price
    factor: float = 1.0  # manufacturer's price level


def _load_drugs(data_dir: Path, daily_count: Callable[[str, str, str], float | None]
                ) -> tuple[list[_Drug], list[str], dict[str, list[str]]]:
    prices = [json.loads(line) for line in open(data_dir / "prices_sample.jsonl", encoding="utf-8")]
    inserts = [json.loads(line) for line in open(data_dir / "inserts_dev.jsonl", encoding="utf-8")]
    usages: dict[str, list[str]] = {"片": [], "粒": [], "袋": []}
    for insert in inserts:
        usage = insert.get("usage") or ""
        if len(usage) >= 120 or usage.count("一次") != 1 or "儿童" in usage or "kg" in usage:
            continue
        found = _SIMPLE_USAGE.search(usage)
        if found and int(found.group(1)) < 10:
            usages[found.group(2)].append(usage)
        elif _MASS_USAGE.search(usage):  # 一次10g：granules, one sachet (or two) a dose
            usages["袋"].append(usage)
    drugs: list[_Drug] = []
    seen: set[str] = set()
    for row in prices:
        form = (row.get("dosage_form") or "").strip()
        found = (_GRANULE_SPEC if "颗粒" in form else _SPEC).match(row.get("spec") or "")
        name = re.sub(r"[(（][^)）]*[)）]$", "", row["name"]).strip()
        if not found or row.get("unit") != "盒" or not any(f in form for f in _ORAL_FORMS) or name in seen:
            continue
        unit = found.group(4) if found.group(4) != "s" else ("粒" if "胶囊" in form else "片")
        count = int(found.group(3))
        if count < 6:
            continue
        seen.add(name)
        drugs.append(_Drug(name, form, found.group(1) + found.group(2), count, unit, row["price"] / count,
                           row["manufacturer"].strip(), ""))
    manufacturers = sorted({row["manufacturer"].strip() for row in prices if row.get("manufacturer")})
    def readable(text: str, unit: str) -> bool:
        if unit == "袋":
            return daily_count(text, "颗粒", _fill_spec(text, 1, 9)) is not None
        return daily_count(text, "药片" if unit == "片" else "胶囊", f"0.25g*12{unit}") is not None

    pool = {u: sorted({t for t in texts if readable(t, u)}) for u, texts in usages.items()}
    return [d for d in drugs if pool[d.unit]], manufacturers, pool


def _fill_spec(usage: str, per_dose_units: int, count: int) -> str:
    """A granule spec whose sachet holds 1/`per_dose_units` of the dose in `usage` (一次10g → 10g or 5g)."""
    amount = float(_MASS_USAGE.search(usage).group(1)) / per_dose_units
    return f"{amount:g}g*{count}袋"


def _scaled_dose(usage: str, factor: float) -> str:
    """`usage` with its amount per dose multiplied by `factor` (a slipped digit: 一次2片 → 一次20片)."""
    found = _SIMPLE_USAGE.search(usage) or _MASS_USAGE.search(usage)
    start, end = found.span(1)
    return usage[:start] + f"{float(found.group(1)) * factor:g}" + usage[end:]


def _rule_engine_daily_count(usage: str, name: str, spec: str) -> float | None:
    try:
        from rules.dose import extract_daily_dose  # imported late: the simulator only needs it to pick texts
    except ImportError:
        found = _SIMPLE_USAGE.search(usage)
        return float(found.group(1)) * float(found.group(3)) if found else None
    result = extract_daily_dose(usage, name=name, spec=spec)
    return result.daily_count[0] if result.determinable and result.daily_count else None


def _ratio_factor(x: float, kind: str = "pack_count_oral_solid") -> float:
    from rules.ratios import ratio_factor  # pure table; the rule the regulator sets and the detector checks

    return ratio_factor(x, kind)  # type: ignore[arg-type]


class _Builder:
    """Schedules actions per group, then runs them in time order against the current prices."""

    def __init__(self, seed: int, drugs: list[_Drug], manufacturers: list[str], usages: dict[str, list[str]]) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.drugs, self.manufacturers, self.usages = drugs, manufacturers, usages
        self.actions: list[tuple[float, int, Callable[[float], None]]] = []
        self.out: list[tuple[float, int, dict[str, Any], str | None, str]] = []
        self._count = 0

    # -- emitting --------------------------------------------------------------------------
    def _at(self, day: float, fn: Callable[[float], None]) -> None:
        heapq.heappush(self.actions, (day, self._seq(), fn))

    def _seq(self) -> int:
        self._count += 1
        return self._count

    def _emit(self, day: float, topic: str, value: dict[str, Any], kind: str | None, case: str) -> None:
        self.out.append((day, len(self.out), {"topic": topic, "key": value["product_id"], "value": value}, kind, case))

    def _list(self, day: float, drug: _Drug, product: _Product, region: str, price: float,
              kind: str | None, case: str) -> None:
        price = round(price, 2)
        product.prices[region] = price
        value = {
            "product_id": product.pid, "region": region, "generic_name": drug.name,
            "manufacturer": product.manufacturer, "dosage_form": drug.form,
            "spec": f"{product.fill or drug.strength}*{product.count}{drug.unit}",
            "package": f"{'复合膜袋' if drug.unit == '袋' else '铝塑泡罩'}包装，每盒装{product.count}{drug.unit}",
            "pack_qty": product.count, "min_unit": drug.unit, "pack_unit": "盒", "usage": product.usage, "price": price,
        }
        if self.rng.random() < _NO_PACK_FIELDS:  # some platforms leave 转换比 to be read from the spec
            del value["pack_qty"], value["min_unit"]
        self._emit(day, "drug.listings", value, kind, case)

    def _change(self, day: float, product: _Product, region: str, factor: float, kind: str | None, case: str) -> None:
        old = product.prices[region]
        new = round(old * factor, 2)
        if new == old:
            new = round(old + (0.01 if factor > 1 else -0.01), 2)
        product.prices[region] = new
        reason = {"procurement_cut": "国家组织药品集中采购中选价格执行"}.get(case, "企业申请调价")
        self._emit(day, "drug.price-changes", {"product_id": product.pid, "region": region, "new_price": new,
                                               "old_price": old, "reason": reason}, kind, case)

    # -- one peer group --------------------------------------------------------------------
    def group(self, index: int, drug: _Drug, cold: bool) -> None:
        rng = self.rng
        usage = rng.choice(self.usages[drug.unit])
        fill = drug.strength
        if drug.unit == "袋":  # granules: a sachet holds the dose in the text, or half of it
            fill = _fill_spec(usage, rng.choice((1, 2)), 1).split("*")[0]
        others = [m for m in self.manufacturers if m != drug.manufacturer]
        names = [drug.manufacturer] + rng.sample(others, 12)
        n = 2 if cold else rng.randint(4, 9)
        products: list[_Product] = []
        start = rng.uniform(0, 15)
        for i in range(n):
            factor = math.exp(rng.gauss(0, _MFR_SPREAD))
            case = "baseline_listing"
            if cold and i == 1:
                factor, case = products[0].factor * rng.uniform(2.5, 4.0), "cold_start"
            product = _Product(f"G{index:03d}-M{i}-{drug.count}", names[i], drug.count, usage, fill, factor=factor)
            products.append(product)
            for k, region in enumerate(rng.sample(REGIONS, rng.randint(1, 3))):
                day = start + i * rng.uniform(0.5, 2.0) + k * rng.uniform(1.0, 5.0)
                price = drug.unit_price * drug.count * factor * math.exp(rng.gauss(0, _REGION_SPREAD))
                self._list(day, drug, product, region, price, None, case if k == 0 else "baseline_listing")
        if cold:
            return
        ctx = {"drug": drug, "fill": fill, "products": products, "baseline": list(products), "names": names, "next": n,
               "reserved": set(), "used": set(), "tainted": set()}
        for kind in rng.sample(["peer_outlier", "price_jump", "creeping", "hidden_increase",
                                "ratio_rule_violation", "cross_region_gap", "dose_outlier"], 2):
            getattr(self, f"_inject_{kind}")(ctx, rng.uniform(60, 330))
        for kind in rng.sample(["new_in_line", "pack_within_rule", "relist_in_line"], 2):
            getattr(self, f"_inject_{kind}")(ctx, rng.uniform(60, 330))
        if rng.random() < 0.35:
            self._at(rng.uniform(60, 330), lambda day: self._cut(ctx, day))
        for product in products:  # ordinary small moves, away from the product-regions a creep reserves
            for region in list(product.prices):
                for _ in range(rng.randint(0, 4)):
                    self._at(rng.uniform(50, 360), lambda day, p=product, r=region: self._small(ctx, p, r, day))

    def _small(self, ctx: dict[str, Any], product: _Product, region: str, day: float) -> None:
        if (product.pid, region) not in ctx["reserved"]:
            step = self.rng.uniform(0.005, 0.05) * self.rng.choice((-1, 1))
            self._change(day, product, region, 1 + step, None, "small_move")

    def _cut(self, ctx: dict[str, Any], day: float) -> None:
        for i, product in enumerate(self.rng.sample(ctx["products"], max(1, len(ctx["products"]) // 2))):
            for region in list(product.prices):
                if (product.pid, region) not in ctx["reserved"]:
                    self._change(day + 0.001 * i, product, region, self.rng.uniform(0.2, 0.7), None, "procurement_cut")

    def _peer_unit_price(self, ctx: dict[str, Any]) -> float:
        units = sorted(p / q.count for q in ctx["products"] for p in q.prices.values())
        return units[len(units) // 2]

    def _new_manufacturer(self, ctx: dict[str, Any], count: int | None = None) -> _Product:
        i = ctx["next"]
        ctx["next"] += 1
        drug = ctx["drug"]
        count = count or drug.count
        return _Product(f"G{int(ctx['products'][0].pid[1:4]):03d}-M{i}-{count}", ctx["names"][i], count,
                        ctx["products"][0].usage, ctx["fill"])

    def _sibling(self, ctx: dict[str, Any], base: _Product, count: int, fill_factor: float = 1.0) -> _Product:
        """The same manufacturer's other pack (`count` units) or fill (`fill_factor` × the amount)."""
        ctx["used"].add(base.pid)
        fill = base.fill
        if fill_factor != 1.0:
            fill = f"{float(fill[:-1]) * fill_factor:g}g"
        tag = f"{fill}-{count}" if fill != base.fill else f"{count}"
        return _Product(base.pid.rsplit("-", 1)[0] + f"-{tag}", base.manufacturer, count, base.usage, fill)

    def _free_base(self, ctx: dict[str, Any]) -> _Product | None:
        free = [p for p in ctx["baseline"] if p.pid not in ctx["used"] | ctx["tainted"]]
        return self.rng.choice(free) if free else None

    # -- injections (each schedules itself; prices are read when it runs) ------------------
    def _inject_peer_outlier(self, ctx: dict[str, Any], day: float) -> None:
        def act(day: float) -> None:
            product = self._new_manufacturer(ctx)
            price = self._peer_unit_price(ctx) * product.count * self.rng.uniform(2.0, 6.0)
            self._list(day, ctx["drug"], product, self.rng.choice(REGIONS), price, "peer_outlier", "peer_outlier")
            ctx["products"].append(product)
            ctx["tainted"].add(product.pid)
        self._at(day, act)

    def _inject_new_in_line(self, ctx: dict[str, Any], day: float) -> None:
        def act(day: float) -> None:
            product = self._new_manufacturer(ctx)
            factor = min(1.25, max(0.8, math.exp(self.rng.gauss(0, 0.1))))
            price = self._peer_unit_price(ctx) * product.count * factor
            self._list(day, ctx["drug"], product, self.rng.choice(REGIONS), price, None, "new_in_line")
            ctx["products"].append(product)
        self._at(day, act)

    def _inject_dose_outlier(self, ctx: dict[str, Any], day: float) -> None:
        def act(day: float) -> None:
            product = self._new_manufacturer(ctx)
            product.usage = _scaled_dose(product.usage, 10)
            price = self._peer_unit_price(ctx) * product.count * math.exp(self.rng.gauss(0, 0.08))
            self._list(day, ctx["drug"], product, self.rng.choice(REGIONS), price, "dose_outlier", "dose_outlier")
        self._at(day, act)

    def _inject_price_jump(self, ctx: dict[str, Any], day: float) -> None:
        def act(day: float) -> None:
            choices = [(p, r) for p in ctx["products"] for r in p.prices if (p.pid, r) not in ctx["reserved"]]
            product, region = self.rng.choice(choices)
            ctx["tainted"].add(product.pid)
            self._change(day, product, region, self.rng.uniform(1.35, 4.0), "price_jump", "price_jump")
        self._at(day, act)

    def _inject_creeping(self, ctx: dict[str, Any], day: float) -> None:
        product = self.rng.choice(ctx["baseline"])
        region = self.rng.choice(list(product.prices))
        ctx["reserved"].add((product.pid, region))

        def step(day: float, base: float, more: int) -> None:
            crossed = product.prices[region] / base >= 1.3
            self._change(day, product, region, self.rng.uniform(1.06, 1.11), None, "creep_step")
            if product.prices[region] / base >= 1.3:
                self.out[-1] = (*self.out[-1][:3], "price_jump", "creeping")
            if not crossed or more > 0:
                self._at(day + self.rng.uniform(7, 20), lambda d: step(d, base, more - crossed))

        def start(day: float) -> None:
            self._change(day, product, region, 1 - self.rng.uniform(0.01, 0.03), None, "small_move")
            base = product.prices[region]
            self._at(day + self.rng.uniform(7, 20), lambda d: step(d, base, self.rng.choice((0, 0, 1, 2))))
        self._at(min(day, 250), start)

    def _inject_hidden_increase(self, ctx: dict[str, Any], day: float) -> None:
        def act(day: float) -> None:
            base = self._free_base(ctx)
            if base is None:
                return
            shrink = self.rng.choice((2, 3))
            region = self.rng.choice(list(base.prices))
            if ctx["drug"].unit == "袋" and self.rng.random() < 0.5:  # half-filled sachets, same count
                product = self._sibling(ctx, base, base.count, fill_factor=0.5)
            else:
                product = self._sibling(ctx, base, base.count // shrink)
            self._list(day, ctx["drug"], product, region, base.prices[region] * self.rng.uniform(0.85, 1.1),
                       "hidden_increase", "hidden_increase")
        self._at(day, act)

    def _inject_ratio_rule_violation(self, ctx: dict[str, Any], day: float) -> None:
        self._at(day, lambda day: self._bigger_pack(ctx, day, (1.2, 1.45), "ratio_rule_violation"))

    def _inject_pack_within_rule(self, ctx: dict[str, Any], day: float) -> None:
        self._at(day, lambda day: self._bigger_pack(ctx, day, (0.8, 1.0), None))

    def _bigger_pack(self, ctx: dict[str, Any], day: float, excess: tuple[float, float], kind: str | None) -> None:
        """A bigger pack (or, for granules, a fuller sachet) priced at `excess` × the 差比价 ceiling."""
        base = self._free_base(ctx)
        if base is None:
            return
        region = self.rng.choice(list(base.prices))
        if ctx["drug"].unit == "袋" and self.rng.random() < 0.5:  # 装量: 2× the fill, a = 1.9
            product = self._sibling(ctx, base, base.count, fill_factor=2.0)
            ceiling = base.prices[region] * _ratio_factor(2.0, "fill_volume")
        else:
            x = self.rng.choice((2, 3) if kind else (2, 3, 0.5))
            product = self._sibling(ctx, base, int(base.count * x))
            ceiling = base.prices[region] * _ratio_factor(product.count / base.count)
        # a smaller pack within the rule sits at (or just under) its ratio-rule price
        within = (0.93, 1.03) if product.count < base.count else excess
        self._list(day, ctx["drug"], product, region, ceiling * self.rng.uniform(*(excess if kind else within)),
                   kind, kind or "pack_within_rule")

    def _inject_cross_region_gap(self, ctx: dict[str, Any], day: float) -> None:
        self._at(day, lambda day: self._new_region(ctx, day, (1.6, 3.5), "cross_region_gap"))

    def _inject_relist_in_line(self, ctx: dict[str, Any], day: float) -> None:
        self._at(day, lambda day: self._new_region(ctx, day, (0.95, 1.1), None))

    def _new_region(self, ctx: dict[str, Any], day: float, gap: tuple[float, float], kind: str | None) -> None:
        candidates = [p for p in ctx["products"]
                      if p.prices and len(p.prices) < len(REGIONS) and (kind or p.pid not in ctx["tainted"])]
        if not candidates:
            return
        product = self.rng.choice(candidates)
        region = self.rng.choice([r for r in REGIONS if r not in product.prices])
        price = min(product.prices.values()) * self.rng.uniform(*gap)
        if kind:
            ctx["tainted"].add(product.pid)
        self._list(day, ctx["drug"], product, region, price, kind, kind or "relist_in_line")

    # -- running ---------------------------------------------------------------------------
    def run(self) -> Simulation:
        while self.actions:  # actions may schedule later ones (the steps of a creeping run)
            day, _, act = heapq.heappop(self.actions)
            act(day)
        sim = Simulation()
        for number, (day, _, line, kind, case) in enumerate(sorted(self.out, key=lambda o: (o[0], o[1]))):
            event_id = f"sim{self.seed}-{number:06d}"
            ts = (_START + timedelta(days=day)).isoformat(timespec="seconds")
            line["value"] = {"event_id": event_id, "ts": ts, **line["value"]}
            sim.events.append(line)
            sim.truth.append({"event_id": event_id, "type": kind, "case": case})
        return sim


def simulate(seed: int = 0, *, n_groups: int = 60, cold_share: float = 0.15, data_dir: Path | None = None) -> Simulation:
    """A labeled feed of `n_groups` peer groups (a `cold_share` of them with two manufacturers).

    Examples
    --------
    >>> sim = simulate(seed=1, n_groups=6)
    >>> len(sim.events) == len(sim.truth), sim.events[0]["topic"]
    (True, 'drug.listings')
    >>> sim.events[0]["value"]["ts"].endswith("+08:00")
    True
    """
    drugs, manufacturers, usages = _load_drugs(data_dir or _DATA, _rule_engine_daily_count)
    builder = _Builder(seed, drugs, manufacturers, usages)
    chosen = builder.rng.sample(drugs, min(n_groups, len(drugs)))
    for index, drug in enumerate(chosen):
        builder.group(index, drug, cold=builder.rng.random() < cold_share)
    return builder.run()


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_simulation(out_dir: str | Path, seed: int = 0, **kwargs: Any) -> tuple[Path, Path]:
    """Write ``events.jsonl`` and ``truth.jsonl`` under `out_dir`; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(seed, **kwargs)
    _write_jsonl(out / "events.jsonl", sim.events)
    _write_jsonl(out / "truth.jsonl", sim.truth)
    return out / "events.jsonl", out / "truth.jsonl"
