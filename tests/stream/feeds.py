"""Small hand-made feeds on real insert texts, for the stream tests."""
from __future__ import annotations

import base64
from typing import Any

TS = "2026-03-0{day}T09:00:00+08:00"


def listing(event_id: str, product_id: str, *, price: float, manufacturer: str, region: str = "GD-SZ",
            generic_name: str = "银杏叶片", dosage_form: str = "片剂", spec: str = "每片重0.2g",
            package: str = "铝塑包装，每盒装24片", pack_qty: float | None = 24, min_unit: str | None = "片",
            usage: str = "口服。一次2片，一日3次；或遵医嘱。", day: int = 1) -> dict[str, Any]:
    value = {
        "event_id": event_id, "ts": TS.format(day=day), "product_id": product_id, "region": region,
        "generic_name": generic_name, "manufacturer": manufacturer, "dosage_form": dosage_form,
        "spec": spec, "package": package, "pack_qty": pack_qty, "min_unit": min_unit, "pack_unit": "盒",
        "usage": usage, "price": price,
    }
    return {"topic": "drug.listings", "value": {k: v for k, v in value.items() if v is not None}}


def price_change(event_id: str, product_id: str, new_price: float, *, region: str = "GD-SZ", day: int = 5,
                 old_price: float | None = None) -> dict[str, Any]:
    value = {"event_id": event_id, "ts": TS.format(day=day), "product_id": product_id, "region": region,
             "new_price": new_price}
    if old_price is not None:
        value["old_price"] = old_price
    return {"topic": "drug.price-changes", "value": value}


def listings_feed() -> list[dict[str, Any]]:
    """Six manufacturers of one tablet, priced alike, plus a capsule product of another drug."""
    feed = [listing(f"L{i}", f"P{i}", price=price, manufacturer=f"制药厂{i}")
            for i, price in enumerate((12.0, 12.5, 11.8, 13.0, 12.2, 12.9), start=1)]
    feed.append(listing("L7", "P7", price=30.0, manufacturer="胶囊厂", generic_name="复方丹参胶囊",
                        dosage_form="胶囊剂", spec="每粒装0.3g", package="12粒×3板/盒", pack_qty=36, min_unit="粒",
                        usage="口服。一次3粒，一日3次。小儿酌减。"))
    return feed


def price_feed() -> list[dict[str, Any]]:
    """Price changes: an ordinary move, a doubling (a price jump), a cut, and a second region."""
    return [
        price_change("C1", "P1", 12.3),              # +2.5 %: ordinary
        price_change("C2", "P2", 26.0, day=6),       # +108 %: a price jump
        price_change("C3", "P3", 7.0, day=6),        # procurement cut: must not alert
        price_change("C4", "P7", 31.0, region="GD-GZ", day=7),
    ]


MALFORMED: dict[str, dict[str, Any]] = {
    "undecodable": {"topic": "drug.listings", "key": "BAD1",
                    "value_b64": base64.b64encode(b"\xff\xfe\x00\x81 not utf-8").decode()},
    "invalid_json": {"topic": "drug.listings", "key": "BAD2", "value": '{"event_id": "B2", "price": 3'},
    "missing_field": {"topic": "drug.listings", "key": "BAD3",
                      "value": {k: v for k, v in listing("B3", "BAD3", price=5, manufacturer="x")["value"].items()
                                if k != "usage"}},
    "wrong_type": {"topic": "drug.listings", "key": "BAD4",
                   "value": listing("B4", "BAD4", price=5, manufacturer="x")["value"] | {"price": "五元"}},
    "bad_price": {"topic": "drug.price-changes", "key": "P1",
                  "value": price_change("B5", "P1", 1.0)["value"] | {"new_price": 0}},
    "bad_price_nan": {"topic": "drug.price-changes", "key": "P1",
                      "value": '{"event_id": "B6", "ts": "2026-03-05T09:00:00+08:00", "product_id": "P1", '
                               '"region": "GD-SZ", "new_price": NaN}'},
    "unknown_product": price_change("B7", "NEVER-LISTED", 9.9),
}
EXPECTED_REASON = {"bad_price_nan": "bad_price"}


_DRUGS = (  # 通用名, 剂型, spec, package, pack_qty, min_unit, usage, typical pack price
    ("银杏叶片", "片剂", "每片重0.2g", "铝塑包装，每盒装24片", 24, "片", "口服。一次2片，一日3次；或遵医嘱。", 12.0),
    ("复方丹参胶囊", "胶囊剂", "每粒装0.3g", "12粒×3板/盒", 36, "粒", "口服。一次3粒，一日3次。小儿酌减。", 30.0),
    ("板蓝根颗粒", "颗粒剂", "每袋装10g", "10g*20袋", 20, "袋", "开水冲服。一次5～10g，一日3～4次。", 15.0),
    ("感冒清热颗粒", "颗粒剂", "每袋装12g", "12g*10袋/盒", 10, "袋", "开水冲服，一次1袋，一日2次。", 18.0),
    ("六味地黄丸", "丸剂", "每8丸相当于原药材3g", "每瓶装200丸", 200, "丸", "口服。一次8丸，一日3次。", 25.0),
)


def bulk_feed(n_products: int = 60, n_changes: int = 300, *, seed: int = 1, jump_every: int = 25) -> list[dict[str, Any]]:
    """Many products of a few drugs, then price changes: mostly small moves, every `jump_every`-th a doubling."""
    import random

    rng = random.Random(seed)
    feed: list[dict[str, Any]] = []
    products = []
    for i in range(n_products):
        name, form, spec, package, qty, unit, usage, price = _DRUGS[i % len(_DRUGS)]
        pid = f"BP{i:04d}"
        region = ("GD-SZ", "GD-GZ", "ZJ-HZ")[i % 3]
        feed.append(listing(f"BL{i:04d}", pid, price=round(price * rng.uniform(0.85, 1.15), 2),
                            manufacturer=f"{name}厂{i // len(_DRUGS)}", region=region, generic_name=name,
                            dosage_form=form, spec=spec, package=package, pack_qty=qty, min_unit=unit, usage=usage))
        products.append((pid, region, feed[-1]["value"]["price"]))
    prices = {pid: price for pid, _, price in products}
    for j in range(n_changes):
        pid, region, _ = products[rng.randrange(len(products))]
        factor = 2.0 if j % jump_every == jump_every - 1 else rng.uniform(0.97, 1.03)
        prices[pid] = round(prices[pid] * factor, 2)
        feed.append(price_change(f"BC{j:05d}", pid, prices[pid], region=region, day=2 + j % 7))
    return feed
