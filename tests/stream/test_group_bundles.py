"""The internal group-events messages: one JSON list per partition and batch, read back as events."""
from __future__ import annotations

import json
from types import SimpleNamespace

from stream.agents import _dump, _group_events_in, _group_payload
from stream.outputs import ProductOutput


def _message(value: bytes) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(value=value, topic="pw-group-events", partition=1, offset=7,
                                                   key=None))


def test_group_payload_is_the_enriched_record_plus_alert_types_and_arrival():
    enriched = {"product_id": "P1", "generic_name": "阿莫西林胶囊", "price": 12.5, "daily_cost": [1.0, 2.0]}
    out = ProductOutput(enriched=enriched, group_event={**enriched, "product_alert_types": ["price_jump"]})
    payload = _group_payload(out, _dump(enriched), 1764000000.25)
    assert json.loads(payload) == {**enriched, "product_alert_types": ["price_jump"], "_arrived": 1764000000.25}


def test_an_input_field_named_like_ours_is_overridden_as_a_dict_merge_would():
    enriched = {"product_id": "P1", "product_alert_types": "from the input"}
    out = ProductOutput(enriched=enriched, group_event={**enriched, "product_alert_types": []})
    assert json.loads(_group_payload(out, _dump(enriched), 1.0))["product_alert_types"] == []


def test_a_bundle_and_a_single_event_are_both_read():
    events = [{"event_id": "e1", "generic_name": "甲"}, {"event_id": "e2", "generic_name": "乙"}]
    assert _group_events_in(_message(b"[" + b",".join(map(_dump, events)) + b"]")) == events
    assert _group_events_in(_message(_dump(events[0]))) == [events[0]]


def test_an_unreadable_message_becomes_a_dead_letter_record():
    [value] = _group_events_in(_message(b"\xff not json"))
    record = value["_unreadable"]
    assert (record["reason"], record["source_offset"], record["encoding"]) == ("processing_error", 7, "base64")
