"""The processing core without a broker: validation, dead-letters, state, de-duplication."""
from __future__ import annotations

import copy
import json

import pytest

from stream.pipeline import Pipeline, Source
from stream.records import BadEvent, decode_json, validate
from stream.replay import message_bytes, run_replay
from tests.stream import feeds


class TestValidation:
    @pytest.mark.parametrize("kind", sorted(feeds.MALFORMED))
    def test_each_malformed_kind_is_dead_lettered_with_its_reason(self, kind):
        result = run_replay(feeds.listings_feed() + [feeds.MALFORMED[kind]])
        assert len(result.deadletters) == 1
        record = result.deadletters[0]
        assert record["reason"] == feeds.EXPECTED_REASON.get(kind, kind)
        assert record["source_topic"] == feeds.MALFORMED[kind]["topic"]
        assert record["error"]

    def test_undecodable_bytes_are_kept_as_base64(self):
        result = run_replay([feeds.MALFORMED["undecodable"]])
        record = result.deadletters[0]
        assert record["encoding"] == "base64"
        assert message_bytes(feeds.MALFORMED["undecodable"]) == __import__("base64").b64decode(record["original"])

    def test_extra_fields_are_kept(self):
        event = validate("drug.listings", feeds.listing("e", "p", price=1, manufacturer="m")["value"] | {"x": 1})
        assert event["x"] == 1

    @pytest.mark.parametrize("raw", [b"[1, 2]", b"null", b'"text"'])
    def test_json_that_is_not_an_object(self, raw):
        with pytest.raises(BadEvent) as info:
            decode_json(raw)
        assert info.value.reason in {"not_an_object", "invalid_json"}

    def test_boolean_is_not_a_number(self):
        value = feeds.price_change("e", "p", 1.0)["value"] | {"new_price": True}
        with pytest.raises(BadEvent, match="new_price") as info:
            validate("drug.price-changes", value)
        assert info.value.reason == "wrong_type"


class TestEnrichment:
    def test_listing_gets_daily_dose_and_cost(self):
        result = run_replay(feeds.listings_feed())
        tablet = result.enriched[0]
        assert (tablet["daily"], tablet["unit"], tablet["unit_price"]) == ([6, 6], "片", 0.5)
        assert tablet["daily_cost"] == pytest.approx([3.0, 3.0])
        capsule = result.enriched[-1]  # 30 元 for 36 粒, 9 粒 a day
        assert capsule["daily_cost"] == pytest.approx([7.5, 7.5])

    def test_price_change_reprices_from_the_products_state(self):
        result = run_replay(feeds.listings_feed() + feeds.price_feed())
        change = next(e for e in result.enriched if e["event_id"] == "C2")
        assert change["prev_price"] == 12.5 and change["price"] == 26.0
        assert change["daily_cost"] == pytest.approx([6.5, 6.5])
        assert change["generic_name"] == "银杏叶片" and change["unit"] == "片"

    def test_second_region_price_is_kept_apart(self):
        result = run_replay(feeds.listings_feed() + feeds.price_feed())
        change = next(e for e in result.enriched if e["event_id"] == "C4")
        assert change["region"] == "GD-GZ" and change["prev_price"] == 30.0

    def test_price_jump_alert_is_raised_and_a_cut_is_not(self):
        alerts = run_replay(feeds.listings_feed() + feeds.price_feed()).alerts
        assert any(a["event_id"] == "C2" and a["type"] == "price_jump" for a in alerts)
        assert not any(a["event_id"] == "C3" for a in alerts)


class TestRedelivery:
    """At-least-once: an event delivered twice must give the same alerts, never new ones."""

    async def _feed(self, pipeline, items, products, groups):
        alerts = []
        for offset, item in enumerate(items):
            source = Source(item["topic"], 0, offset)
            for out in await pipeline.handle_batch([(source, message_bytes(item))], products):
                if out.deadletter:
                    continue
                alerts += out.alerts + pipeline.on_group_event(out.group_event, groups)
        return alerts

    def test_redelivered_events_repeat_their_alerts_exactly(self):
        import asyncio

        pipeline, products, groups = Pipeline(), {}, {}
        feed = feeds.listings_feed() + feeds.price_feed()
        first = asyncio.run(self._feed(pipeline, feed, products, groups))
        state_after = copy.deepcopy(products)
        again = asyncio.run(self._feed(pipeline, feed, products, groups))
        assert sorted(json.dumps(a, sort_keys=True) for a in again) == sorted(json.dumps(a, sort_keys=True) for a in first)
        assert products == state_after  # nothing learned twice

    def test_batch_size_does_not_change_the_outcome(self):
        feed = feeds.listings_feed() + feeds.price_feed() + list(feeds.MALFORMED.values())
        one, many = run_replay(feed, batch_size=1), run_replay(feed, batch_size=64)
        assert [a["alert_id"] for a in one.alerts] == [a["alert_id"] for a in many.alerts]
        assert len(one.enriched) == len(many.enriched) and len(one.deadletters) == len(many.deadletters)


class TestParkedPriceChanges:
    """The two input topics are read side by side, so a price change can overtake its listing."""

    def test_a_change_before_its_listing_waits_for_it(self):
        listing = feeds.listing("L1", "P1", price=12.0, manufacturer="甲厂")
        early = feeds.price_change("C1", "P1", 30.0)
        result = run_replay([early, listing])
        assert not result.deadletters
        assert [e["event_id"] for e in result.enriched] == ["L1", "C1"]
        assert result.enriched[1]["prev_price"] == 12.0
        assert any(a["event_id"] == "C1" and a["type"] == "price_jump" for a in result.alerts)

    def test_expiry_dead_letters_only_what_waited_too_long(self):
        import time

        pipeline, products = Pipeline(), {}
        pipeline.on_price_change(feeds.price_change("C1", "P9", 3.0)["value"], products)
        assert pipeline.expire_parked("P9", products, older_than=time.time() - 60) == []
        (out,) = pipeline.expire_parked("P9", products, older_than=time.time() + 1)
        assert out.deadletter["reason"] == "unknown_product" and out.deadletter["event_id"] == "C1"
        assert "P9" not in products

    def test_a_redelivered_parked_change_is_parked_once(self):
        pipeline, products = Pipeline(), {}
        change = feeds.price_change("C1", "P9", 3.0)["value"]
        pipeline.on_price_change(change, products)
        pipeline.on_price_change(change, products)
        assert len(products["P9"]["parked"]) == 1


class TestDoseRecheck:
    def test_a_dose_outlier_is_read_again_by_the_llm_and_published_for_review(self):
        from dataclasses import replace

        from models.extractor import RuleExtractor

        class SecondReader(RuleExtractor):  # stands in for the LLM: unit level only
            async def recheck(self, *, usage, name=None, spec=None, package=None, current=None):
                return replace(current, daily=(6.0, 6.0), daily_count=(6.0, 6.0), method="llm")

        odd = feeds.listing("L9", "P9", price=12.0, manufacturer="制药厂9", usage="口服。一次20片，一日3次。")
        result = run_replay(feeds.listings_feed() + [odd], pipeline=Pipeline(extractor=SecondReader()))
        assert any(a["type"] == "dose_outlier" and a["event_id"] == "L9" for a in result.alerts)
        (recheck,) = [e for e in result.enriched if e["event_type"] == "dose_recheck"]
        assert recheck["method"] == "llm" and recheck["daily"] == [6.0, 6.0]
        assert recheck["rule_reading"]["daily"] == [60.0, 60.0]
        assert recheck["daily_cost"] == pytest.approx([3.0, 3.0])

    def test_a_redelivered_listing_releases_its_parked_changes_again(self):
        """After a crash the listing comes again, but the parked change does not (it was committed)."""
        import asyncio

        pipeline, products = Pipeline(), {}
        early = feeds.price_change("C1", "P1", 30.0)
        listing = feeds.listing("L1", "P1", price=12.0, manufacturer="甲厂")

        async def run(items):
            batch = [(Source(i["topic"], 0, n), message_bytes(i)) for n, i in enumerate(items)]
            return [o for out in await pipeline.handle_batch(batch, products) for o in out.flatten()]

        first = asyncio.run(run([early, listing]))
        again = asyncio.run(run([listing]))
        assert [o.enriched["event_id"] for o in first if o.enriched] == ["L1", "C1"]
        assert [o.enriched["event_id"] for o in again if o.enriched] == ["L1", "C1"]
        assert [o.alerts for o in again if o.enriched] == [o.alerts for o in first if o.enriched]
