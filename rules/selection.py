"""Which regimen of an insert counts: DAILY_DOSE.md's selection rules, in order.

1. route / dosage form of the product, 2. population (adults, else the oldest age band),
3. loading doses give way to the maintenance regimen; then the first listed.
"""
from __future__ import annotations

from rules.forms import Form, form_match
from rules.regimen import Regimen

__all__ = ["select_regimen"]


def select_regimen(regimens: list[Regimen], product: Form | None, product_route: str | None,
                   maint_without_amount: bool = False) -> tuple[list[Regimen], list[str]]:
    """The regimens left after DAILY_DOSE.md's rules (form/route, population, loading), and why.

    The first of the returned pool is the regimen (rule 3: first listed); an empty pool with
    "maintenance dose has no amount" last in `why` means `no_amount`.

    Examples
    --------
    >>> adult = Regimen(index=0, start=0, end=4, kind="dose", amount=(1.0, 1.0), unit="袋")
    >>> child = Regimen(index=1, start=9, end=13, kind="dose", amount=(0.5, 0.5), unit="袋", population="child")
    >>> pool, why = select_regimen([child, adult], None, None)
    >>> pool == [adult], why
    (True, ['adult'])
    """
    why: list[str] = []
    pool = [r for r in regimens]
    # 1. route / dosage form
    if product is not None:
        scored = [(form_match(r.form, product) if r.form else 0, r) for r in pool]
        best = max(score for score, _ in scored) if scored else 0
        if best > 0:
            kept = [r for score, r in scored if score == best]
            if len(kept) < len(pool):
                why.append(f"form {product.name}")
            pool = kept
    if product_route is not None:
        kept = [r for r in pool if r.route == product_route or (r.route is None and product_route == "oral")]
        if not kept and product_route != "oral":
            kept = [r for r in pool if r.route is None]
        if kept and len(kept) < len(pool):
            why.append(f"route {product_route}")
            pool = kept
    # 2. population: adults (or none named); else the oldest band
    adults = [r for r in pool if r.population == "adult"]
    if adults:
        if len(adults) < len(pool):
            why.append("adult")
        pool = adults
    else:
        bands = [r for r in pool if r.population == "band" and r.band]
        if bands:
            oldest = max(r.band for r in bands)
            pool = [r for r in bands if r.band == oldest]
            why.append("oldest age band")
        elif any(r.population == "elderly" for r in pool) and any(r.population == "child" for r in pool):
            pool = [r for r in pool if r.population == "elderly"]
    # 3. loading doses ignored when a maintenance regimen is given (开始…，维持量… / 首次…，以后…)
    if pool and pool[0].loading:
        first = pool[0]
        maintenance = [r for r in pool if r.maintenance and r.section == first.section and r.start > first.start
                       and r.sentence <= first.sentence + 1]  # the maintenance follows its loading dose
        if not maintenance:  # 1.快速洋地黄化：…3.维持量：每次0.1mg，每天1～2次: a section of its own
            maintenance = [r for r in pool if r.explicit_maintenance and r.start > first.start]
        if maintenance:
            why.append("maintenance over loading")
            pool = [r for r in maintenance if r.explicit_maintenance] or maintenance  # 维持量 over 以后
        elif not first.per_body and (first.times is not None or first.kind == "daily"):
            # a starting dose with no later amount: what is taken after it is not said (DAILY_DOSE.md);
            # one per kg or with no frequency at all keeps that, the more telling reason
            return [], why + ["maintenance dose has no amount"]
    return pool, why
