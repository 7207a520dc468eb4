"""The one processing core: the Faust agents and `pricewatch replay` both run exactly this code.

Two stages, each keyed the way its state is:

1. **product stage** (key `product_id`): validate, read the daily dose, price it, keep the
   product's state (latest listing, dose, pack facts, price per region), run the product-level
   detectors (price jumps, cross-region gaps) and hand a *group event* on;
2. **group stage** (key `generic_name`): the peer-group detectors (peer outliers, hidden
   increases, 差比价 ratios, dose outliers).

Both stages remember the event ids they have processed and the alerts those raised, so an
event delivered twice (at-least-once, after a crash) gives back the same alerts, never new ones.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Callable, ContextManager, Final, MutableMapping

from models.detectors.base import Finding
from models.detectors.settings import DetectorSettings
from models.detectors.suite import DetectorSuite
from models.extractor import DoseExtractor, RuleExtractor
from rules.alerts import build_alert, midpoint
from rules.cost import cost_listing
from rules.dose import DoseResult, extract_daily_dose
from stream import metrics
from stream.metrics_extra import TOP_PRODUCTS
from stream.outputs import GroupState, ProductOutput, Source, as_text, deadletter_record
from stream.records import LISTINGS_TOPIC, PRICE_CHANGES_TOPIC, BadEvent, decode_json, validate

__all__ = ["Pipeline", "ProductOutput", "GroupState", "deadletter_record", "Source", "group_key"]

logger = logging.getLogger(__name__)

# How many recent event ids each state remembers for de-duplication: enough to cover what a
# crashed worker re-reads since its last offset commit (a few seconds of traffic).
PRODUCT_MEMORY: Final = 28  # 8, plus room for the parked changes a listing may release
GROUP_MEMORY: Final = 128  # a worker commits offsets every 100 events or 1 s
# Price changes parked per product while its listing is on its way (the two input topics are
# read side by side, so a change can overtake its listing); more than this is not a race.
MAX_PARKED: Final = 20  # keep below PRODUCT_MEMORY: each released change needs its own memory entry
# What the product state keeps of a listing; not the insert text, which only the listing's own
# enriched record needs (a worker holds every product of its partitions in memory).
_LISTING_FACTS: Final = (
    "product_id", "region", "generic_name", "manufacturer", "dosage_form", "spec", "package",
    "pack_qty", "min_unit", "pack_unit",
)
_DOSE_FIELDS: Final = (
    "determinable", "reason", "per_dose", "times_per_day", "daily", "unit", "daily_count", "count_unit",
    "method", "confidence", "clause", "why",
)


class Pipeline:
    """Stateless processing logic over state mappings the caller owns (Faust tables or dicts).

    Parameters
    ----------
    extractor
        Reads 用法用量 into a daily dose; the rule engine by default.
    detectors
        The detector suite; defaults from `DetectorSettings`.
    control_topic
        Topic whose messages (keyed by product id) ask to expire that product's parked changes.
    parked_grace_s
        How long a price change may wait for its product's listing before it is dead-lettered.
    """

    def __init__(self, extractor: DoseExtractor | None = None, detectors: DetectorSuite | None = None, *,
                 control_topic: str | None = None, parked_grace_s: float = 30.0) -> None:
        self.extractor = extractor or RuleExtractor()
        self.control_topic = control_topic
        self.parked_grace_s = parked_grace_s
        self.detectors = detectors or DetectorSuite(DetectorSettings.from_env())

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, source: Source, raw: bytes | str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(event, None) for a valid message, (None, dead-letter record) otherwise."""
        value: Any = None
        try:
            value = decode_json(raw)
            return validate(source.topic, value), None
        except BadEvent as exc:  # name the event in the dead-letter when the message got that far
            event_id = value.get("event_id") if isinstance(value, dict) else None
            return None, self._deadletter(source, raw, exc.reason, str(exc), event_id)

    async def handle_batch(self, messages: list[tuple[Source, bytes | str | None]],
                           products: MutableMapping[str, Any],
                           context: Callable[[int], ContextManager[Any]] | None = None) -> list[ProductOutput]:
        """The product stage over a batch, in order; the listings' doses are read concurrently.

        Reading doses concurrently keeps a slow LLM answer from stalling the other products,
        and applying the results in input order keeps each partition's order. `context(i)`, when
        given, is entered around the state update of message `i` (Faust needs to know which
        event a table write belongs to).
        """
        decoded = [(source, raw, *((None, None) if source.topic == self.control_topic else self.decode(source, raw)))
                   for source, raw in messages]
        listings = [event for source, _, event, _ in decoded if event and source.topic == LISTINGS_TOPIC]
        doses = dict(zip(map(id, listings), await self._extract_all(listings)))
        outputs = []
        for index, (source, raw, event, dead) in enumerate(decoded):
            with context(index) if context else contextlib.nullcontext():
                if source.topic == self.control_topic:  # a sweep: parked changes whose listing never came
                    expired = self.expire_parked(as_text(source.key) or "", products, time.time() - self.parked_grace_s)
                    outputs.append(ProductOutput(parked=True, followups=expired))
                elif dead is not None:
                    outputs.append(ProductOutput(deadletter=dead))
                else:
                    outputs.append(self._apply(source, raw, event, doses.get(id(event)), products))
        return outputs

    def _apply(self, source: Source, raw: Any, event: dict[str, Any], dose: DoseResult | None,
               products: MutableMapping[str, Any]) -> ProductOutput:
        try:
            if source.topic == LISTINGS_TOPIC:
                return self.on_listing(event, dose, products)
            return self.on_price_change(event, products, source)
        except BadEvent as exc:
            return ProductOutput(deadletter=self._deadletter(source, raw, exc.reason, str(exc), event.get("event_id")))
        except Exception as exc:  # a bug must not stop the partition: the event is kept, with why
            logger.exception("processing failed for %s@%s:%s", source.topic, source.partition, source.offset)
            return ProductOutput(deadletter=self._deadletter(
                source, raw, "processing_error", f"{type(exc).__name__}: {exc}", event.get("event_id")))

    async def _extract_all(self, listings: list[dict[str, Any]]) -> list[DoseResult]:
        results = await asyncio.gather(*(self.extract(listing) for listing in listings), return_exceptions=True)
        return [self._rules_instead(listing, result) if isinstance(result, BaseException) else result
                for listing, result in zip(listings, results)]

    def _rules_instead(self, listing: dict[str, Any], error: BaseException) -> DoseResult:
        # Extractors promise not to raise; if one does anyway, the rule engine still answers.
        logger.error("extractor failed on %s (%s); using the rule engine", listing.get("event_id"), error)
        return extract_daily_dose(listing["usage"], name=listing.get("generic_name"),
                                  spec=listing.get("spec"), package=listing.get("package"))

    def _deadletter(self, source: Source, raw: Any, reason: str, error: str, event_id: str | None) -> dict[str, Any]:
        metrics.DEADLETTERS.labels(reason).inc()
        logger.warning("dead-letter %s@%s:%s %s: %s", source.topic, source.partition, source.offset, reason, error)
        return deadletter_record(source, raw, reason, error, event_id if isinstance(event_id, str) else None)

    # -- product stage ----------------------------------------------------------------------
    async def extract(self, listing: dict[str, Any]) -> DoseResult:
        return await self.extractor.extract(
            usage=listing["usage"], name=listing.get("generic_name"),
            spec=listing.get("spec"), package=listing.get("package"),
        )

    def on_listing(self, listing: dict[str, Any], dose: DoseResult,
                   products: MutableMapping[str, Any]) -> ProductOutput:
        """A new listing (挂网) or re-listing: price it, remember the product, check it."""
        pid = listing["product_id"]
        state = products.get(pid)
        cost = cost_listing(dose, spec=listing.get("spec"), package=listing.get("package"),
                            pack_qty=listing.get("pack_qty"), min_unit=listing.get("min_unit"),
                            price=listing["price"])
        dose_fields = dose.to_dict()
        enriched = {
            **listing, **{k: dose_fields.get(k) for k in _DOSE_FIELDS},
            "pack_qty": cost.pack_qty, "min_unit": cost.min_unit, "unit_price": cost.unit_price,
            "daily_cost": _as_list(cost.daily_cost), "cost_reason": cost.cost_reason,
            "event_type": "listing",
        }
        if state and listing["event_id"] in state.get("done", {}):
            # Redelivered: its outputs again, and those of the parked changes it released, which
            # will not be delivered again themselves (parking them produced nothing to lose).
            output = self._replayed(state, enriched)
            applied = state["done"][listing["event_id"]].get("applied", [])
            output.followups = [self._apply_parked(item, products) for item in applied]
            return output
        parked = (state or {}).get("parked", [])
        if state and "listing" not in state:
            state = None  # only parked changes so far: this is the product's first listing
        prev = (state or {}).get("prices", {}).get(listing["region"])
        state = {
            "listing": {k: listing.get(k) for k in _LISTING_FACTS} | {"event_id": listing["event_id"]},
            "dose": {k: enriched[k] for k in _DOSE_FIELDS},
            "pack_qty": cost.pack_qty, "min_unit": cost.min_unit,
            "cost_per_yuan": _as_list(cost.cost_per_yuan), "cost_reason": cost.cost_reason,
            "prices": {**(state or {}).get("prices", {}), listing["region"]: listing["price"]},
            "detect": (state or {}).get("detect", {}),
            "done": (state or {}).get("done", {}),
        }
        enriched["prev_price"] = prev
        output = self._finish_product(products, pid, state, enriched, applied=parked)
        output.followups = [self._apply_parked(item, products) for item in parked]
        return output

    def on_price_change(self, change: dict[str, Any], products: MutableMapping[str, Any],
                        source: Source | None = None) -> ProductOutput:
        """A listed product's new price: reprice its daily cost and check the move.

        A change for a product not listed (yet) is parked in the product's state until its
        listing arrives, or dead-lettered as `unknown_product` when `expire_parked` says so.
        """
        pid = change["product_id"]
        state = products.get(pid)
        if state is None or "listing" not in state:
            return self._park(change, state, products, source)
        region, price = change["region"], change["new_price"]
        done = state["done"].get(change["event_id"])
        prev = done["prev_price"] if done else state["prices"].get(region)
        if prev is None:  # first price in this region: the listing's price is the nearest reference
            prev = state["prices"].get(state["listing"]["region"])
        enriched = self._repriced(state, region, price) | {
            "event_id": change["event_id"], "ts": change["ts"], "event_type": "price_change",
            "prev_price": prev, "old_price": change.get("old_price"), "change_reason": change.get("reason"),
        }
        if done:
            return self._replayed(state, enriched)
        state = {**state, "prices": {**state["prices"], region: price}}
        return self._finish_product(products, pid, state, enriched)

    def _park(self, change: dict[str, Any], state: dict[str, Any] | None, products: MutableMapping[str, Any],
              source: Source | None) -> ProductOutput:
        parked = (state or {}).get("parked", [])
        if any(item["event"]["event_id"] == change["event_id"] for item in parked):
            return ProductOutput(parked=True)  # redelivered while still parked
        if len(parked) >= MAX_PARKED:
            raise BadEvent("unknown_product", f'price change for product "{change["product_id"]}", which was never '
                                              f"listed ({MAX_PARKED} changes already wait for its listing)")
        where = source or Source(PRICE_CHANGES_TOPIC)
        item = {"event": change, "parked_at": time.time(),
                "source": [where.topic, where.partition, where.offset, as_text(where.key)]}
        products[change["product_id"]] = {"parked": parked + [item]}
        metrics.PARKED.inc()
        return ProductOutput(parked=True)

    def _apply_parked(self, item: dict[str, Any], products: MutableMapping[str, Any]) -> ProductOutput:
        try:
            return self.on_price_change(item["event"], products)
        except BadEvent as exc:
            return self._parked_deadletter(item, exc.reason, str(exc))

    def _parked_deadletter(self, item: dict[str, Any], reason: str, error: str) -> ProductOutput:
        source = Source(*item["source"])
        raw = json.dumps(item["event"], ensure_ascii=False)
        return ProductOutput(deadletter=self._deadletter(source, raw, reason, error, item["event"]["event_id"]))

    def expire_parked(self, product_id: str, products: MutableMapping[str, Any],
                      older_than: float | None = None) -> list[ProductOutput]:
        """Dead-letter the product's parked changes (those parked before `older_than`, or all)."""
        state = products.get(product_id)
        if not state or not state.get("parked"):
            return []
        expired = [i for i in state["parked"] if older_than is None or i["parked_at"] < older_than]
        if not expired:
            return []
        kept = [i for i in state["parked"] if i not in expired]
        if "listing" in state or kept:
            products[product_id] = {**state, "parked": kept}
        else:
            del products[product_id]
        error = f'price change for product "{product_id}", which was never listed'
        return [self._parked_deadletter(item, "unknown_product", error) for item in expired]

    @staticmethod
    def parked_since(state: dict[str, Any]) -> float | None:
        """When the oldest parked change of this product state was parked, if any."""
        parked = state.get("parked") if isinstance(state, dict) else None
        return min(i["parked_at"] for i in parked) if parked else None

    def _repriced(self, state: dict[str, Any], region: str, price: float) -> dict[str, Any]:
        per_yuan = state.get("cost_per_yuan")
        pack_qty = state.get("pack_qty")
        return {
            **state["listing"], **state["dose"], "region": region, "price": price,
            "pack_qty": pack_qty, "min_unit": state.get("min_unit"),
            "unit_price": round(price / pack_qty, 6) if pack_qty else None,
            "daily_cost": [round(per_yuan[0] * price, 4), round(per_yuan[1] * price, 4)] if per_yuan else None,
            "cost_reason": state.get("cost_reason"),
        }

    def _finish_product(self, products: MutableMapping[str, Any], pid: str, state: dict[str, Any],
                        enriched: dict[str, Any], applied: list[dict[str, Any]] = ()) -> ProductOutput:
        findings = self.detectors.on_product_event(enriched, state)
        alerts = [self._alert(enriched, f) for f in findings]
        done = dict(state["done"])
        done[enriched["event_id"]] = {"prev_price": enriched.get("prev_price"), "alerts": alerts}
        if applied:  # parked changes this listing released: a redelivered listing releases them again
            done[enriched["event_id"]]["applied"] = list(applied)
        state["done"] = dict(list(done.items())[-PRODUCT_MEMORY:])
        products[pid] = state  # assignment, not mutation: a Faust table only logs what is set
        self._observe(enriched)
        return ProductOutput(enriched=enriched, alerts=alerts, group_event=_group_event(enriched, alerts))

    def _replayed(self, state: dict[str, Any], enriched: dict[str, Any]) -> ProductOutput:
        # A redelivered event: the same alerts as the first time, and the group event again
        # (the group stage has its own memory) in case the crash came before it was sent.
        done = state["done"][enriched["event_id"]]
        enriched["prev_price"] = done["prev_price"]
        return ProductOutput(enriched=enriched, alerts=list(done["alerts"]),
                             group_event=_group_event(enriched, done["alerts"]))

    # -- group stage ------------------------------------------------------------------------
    def on_group_event(self, event: dict[str, Any], groups: MutableMapping[str, Any]) -> list[dict[str, Any]]:
        """Peer-group checks of one enriched event; the same answer when an event comes twice."""
        key = group_key(event)
        group = groups.get(key) or GroupState(self.detectors.new_group_state())
        if event["event_id"] in group.done:
            return list(group.done[event["event_id"]])
        alerts = [self._alert(event, f) for f in self.detectors.on_group_event(event, group.detect)]
        group.done[event["event_id"]] = alerts
        while len(group.done) > GROUP_MEMORY:
            group.done.popitem(last=False)
        groups[key] = group
        return alerts

    def run_group_stage(self, event: dict[str, Any],
                        groups: MutableMapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """(alerts, None), or ([], dead-letter record) when the group stage fails on this event."""
        try:
            return self.on_group_event(event, groups), None
        except Exception as exc:  # keep the partition moving; the event is kept with the reason
            logger.exception("group stage failed for %s", event.get("event_id"))
            raw = json.dumps(event, ensure_ascii=False, default=str)
            return [], self._deadletter(Source("group-stage"), raw, "processing_error",
                                        f"{type(exc).__name__}: {exc}", event.get("event_id"))

    async def recheck_dose(self, event: dict[str, Any], alerts: list[dict[str, Any]]) -> dict[str, Any] | None:
        """A second reading of a listing whose dose was flagged `dose_outlier`, when an LLM is configured.

        Returns an enriched record (`event_type` "dose_recheck") for the reviewers when the model
        reads the insert differently; None when there is nothing to recheck or nothing changed.
        The product's state keeps the rule reading: a reviewer confirms before prices move.
        """
        recheck = getattr(self.extractor, "recheck", None)
        if recheck is None or event.get("event_type") != "listing" or not event.get("usage") \
                or not any(a["type"] == "dose_outlier" for a in alerts):
            return None
        dose = await recheck(usage=event["usage"], name=event.get("generic_name"), spec=event.get("spec"),
                             package=event.get("package"), current=DoseResult.from_dict(event))
        fields = dose.to_dict()
        if dose.method == "rules" or all(fields.get(k) == event.get(k) for k in ("daily", "unit", "daily_count")):
            return None
        cost = cost_listing(dose, spec=event.get("spec"), package=event.get("package"),
                            pack_qty=event.get("pack_qty"), min_unit=event.get("min_unit"), price=event["price"])
        listing = {k: v for k, v in event.items() if k != "product_alert_types"}
        return {**listing, **{k: fields.get(k) for k in _DOSE_FIELDS}, "unit_price": cost.unit_price,
                "daily_cost": _as_list(cost.daily_cost), "cost_reason": cost.cost_reason,
                "event_type": "dose_recheck", "rule_reading": {k: event.get(k) for k in _DOSE_FIELDS}}

    # -- helpers ----------------------------------------------------------------------------
    def _alert(self, event: dict[str, Any], finding: Finding) -> dict[str, Any]:
        alert = build_alert(event=event, alert_type=finding.type, severity=finding.severity, score=finding.score,
                            reference=finding.reference, explanation=finding.explanation)
        metrics.ALERTS.labels(alert["type"], alert["severity"]).inc()
        TOP_PRODUCTS.record(alert["product_id"], alert.get("generic_name") or "")
        return alert

    def _observe(self, enriched: dict[str, Any]) -> None:
        if enriched["event_type"] == "listing":
            metrics.EXTRACTIONS.labels(enriched.get("method") or "rules", str(bool(enriched["determinable"])).lower()).inc()
            if enriched.get("confidence") is not None:
                metrics.EXTRACTION_CONFIDENCE.labels(enriched.get("method") or "rules").observe(enriched["confidence"])
        cost = midpoint(enriched.get("daily_cost"))
        if cost is not None:
            metrics.labelled(metrics.DAILY_COST, enriched.get("dosage_form") or "未知").observe(cost)


def _group_event(enriched: dict[str, Any], alerts: list[dict[str, Any]]) -> dict[str, Any]:
    # The group stage must not raise an alert type the product stage raised for the same event:
    # both would carry the same alert id.
    return {**enriched, "product_alert_types": sorted({a["type"] for a in alerts})}


def group_key(event: dict[str, Any]) -> str:
    """Peer groups are keyed by 通用名; finer groups (剂型, manufacturer) live inside the state."""
    return event.get("generic_name") or ""


def _as_list(value: Any) -> list[float] | None:
    return [float(value[0]), float(value[1])] if value else None
