"""The table views: kept (decoded) peer-group states stay in step with the bytes in the table."""
from __future__ import annotations

import asyncio
import json
import pickle

from stream.outputs import Source
from stream.pipeline import Pipeline
from stream.replay import message_bytes
from stream.simulator import simulate
from stream.tables import LiveValues, WriteBack, as_pickle


def _view(table: dict, size: int = 8) -> LiveValues:
    view = as_pickle(table, live=size)
    assert isinstance(view, LiveValues)
    return view


def test_a_write_still_encodes_into_the_table_and_a_read_skips_the_decoding():
    table: dict = {}
    view = _view(table)
    state = {"n": 1}
    view["G"] = state
    assert pickle.loads(table["G"]) == {"n": 1}
    loads = []
    view.loads = lambda raw: loads.append(raw) or pickle.loads(raw)
    assert view["G"] is state and view.get("G") is state and loads == []


def test_bytes_put_around_the_view_are_decoded_again():
    table: dict = {}
    view = _view(table)
    view["G"] = {"n": 1}
    table["G"] = pickle.dumps({"n": 2})  # what a changelog recovery does
    assert view["G"] == {"n": 2}
    del table["G"]
    assert view.get("G") is None and "G" not in view


def test_only_the_most_recently_used_are_kept():
    table: dict = {}
    view = _view(table, size=2)
    for key in "ABC":
        view[key] = {"key": key}
    view["B"]  # noqa: B018 -- a read counts as a use
    view["D"] = {"key": "D"}
    assert list(view._live) == ["B", "D"]
    assert view["A"] == {"key": "A"} and len(view._live) == 2


def test_a_value_changed_in_place_and_not_written_is_forgotten_at_the_flush():
    table: dict = {}
    groups = WriteBack(_view(table))
    groups["G"] = {"n": 1}
    groups.flush()
    groups["G"]["n"] = 99  # a step that failed half way: never written back
    groups.flush()
    assert groups["G"] == {"n": 1}


def test_the_pipeline_gives_the_same_alerts_with_and_without_kept_states():
    messages = [(Source(item["topic"], 0, offset), message_bytes(item))
                for offset, item in enumerate(simulate(0).events)]

    def alerts(size: int) -> list:
        pipeline, products, groups = Pipeline(), {}, WriteBack(as_pickle({}, live=size))
        found = []
        for start in range(0, len(messages), 64):
            for output in asyncio.run(pipeline.handle_batch(messages[start:start + 64], products)):
                for out in output.flatten():
                    if out.group_event is not None:
                        found.append(pipeline.run_group_stage(json.loads(json.dumps(out.group_event)), groups))
            groups.flush()
        return found

    without = alerts(0)
    assert sum(len(found) for found, _ in without) > 20
    assert alerts(8) == without
