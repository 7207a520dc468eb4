"""Per-key state, in Faust tables whose changelogs bring it back after a restart.

Both tables hold bytes and are used through `EncodedValues` views: a product's state kept as
compact JSON costs a fifth of the memory of the same state as Python objects (the worker holds
every product of its partitions), and the peer groups' River models only pickle.
"""
from __future__ import annotations

import contextlib
import json
import pickle
import weakref
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any, Callable, ContextManager, Final, Iterator

from faust.streams import _current_event, current_event  # take_events() leaves the current event unset

from stream.app import app, settings

__all__ = ["products", "groups", "EncodedValues", "LiveValues", "WriteBack", "as_json", "as_pickle", "changelog_topics"]

_DELETED: Final = object()


class EncodedValues(MutableMapping):
    """A view of a bytes-valued table that stores Python values encoded.

    Parameters
    ----------
    table
        The mapping of bytes underneath (a Faust table, or a dict in tests).
    dumps, loads
        The encoding.

    Examples
    --------
    >>> view = as_json({})
    >>> view["P1"] = {"prices": {"GD-SZ": 12.5}}
    >>> view["P1"], view.get("P2"), view.table["P1"]
    ({'prices': {'GD-SZ': 12.5}}, None, b'{"prices":{"GD-SZ":12.5}}')
    """

    def __init__(self, table: MutableMapping, dumps: Callable[[Any], bytes], loads: Callable[[bytes], Any]) -> None:
        self.table = table
        self.dumps = dumps
        self.loads = loads

    def __getitem__(self, key: str) -> Any:
        return self.loads(self.table[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = self.dumps(value)

    def __delitem__(self, key: str) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.table.get(key)
        return default if raw is None else self.loads(raw)


class LiveValues(EncodedValues):
    """An `EncodedValues` view that keeps the decoded values of up to `size` keys (least recently used out).

    Every write still encodes the value into the table (its changelog gets each write as
    before); a read skips the decoding when the table still holds the very bytes object the
    kept value was decoded from or encoded to. Anything else that puts bytes in the table (a
    changelog recovery, a rebalance, another view) puts a different object there, so the
    value is decoded again: the table stays the only truth, the kept values are a shortcut.

    Examples
    --------
    >>> table = {}
    >>> view = LiveValues(table, pickle.dumps, pickle.loads, size=1)
    >>> view["G"] = state = {"n": 1}
    >>> view["G"] is state
    True
    >>> table["G"] = pickle.dumps({"n": 2})  # written around the view: decoded again
    >>> view["G"]
    {'n': 2}
    """

    def __init__(self, table: MutableMapping, dumps: Callable[[Any], bytes], loads: Callable[[bytes], Any],
                 size: int) -> None:
        super().__init__(table, dumps, loads)
        self.size = size
        self._live: OrderedDict[str, tuple[bytes, Any]] = OrderedDict()

    def __getitem__(self, key: str) -> Any:
        return self._value(key, self.table[key])

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.table.get(key)
        if raw is None:
            self._live.pop(key, None)
            return default
        return self._value(key, raw)

    def __setitem__(self, key: str, value: Any) -> None:
        raw = self.dumps(value)
        self.table[key] = raw
        self._keep(key, raw, value)

    def __delitem__(self, key: str) -> None:
        self._live.pop(key, None)
        del self.table[key]

    def forget(self, key: str) -> None:
        """Drop the kept value of `key` (e.g. it was changed in place and not written)."""
        self._live.pop(key, None)

    def _value(self, key: str, raw: bytes) -> Any:
        entry = self._live.get(key)
        if entry is not None and entry[0] is raw:
            self._live.move_to_end(key)
            return entry[1]
        value = self.loads(raw)
        self._keep(key, raw, value)
        return value

    def _keep(self, key: str, raw: bytes, value: Any) -> None:
        if self.size <= 0:
            return
        self._live[key] = (raw, value)
        self._live.move_to_end(key)
        while len(self._live) > self.size:
            self._live.popitem(last=False)


class WriteBack(MutableMapping):
    """Reads through to a mapping and keeps writes until `flush`: one changelog message per key per batch.

    A batch often touches a key many times (a peer group, a busy product); writing the table
    only once per batch saves the encoding and a changelog message for every other time. The
    writes are replayed at `flush` under the context of the last message that made them (Faust
    sends a table write to that message's partition). A crash before the flush loses nothing:
    the batch is not acknowledged yet, so it is delivered again.

    Examples
    --------
    >>> table = {}
    >>> view = WriteBack(table)
    >>> view["P1"] = 1; view["P1"] = 2
    >>> table, view["P1"]
    ({}, 2)
    >>> view.flush(); table
    {'P1': 2}
    """

    def __init__(self, table: MutableMapping, context: Callable[[], Any] = lambda: None,
                 enter: Callable[[Any], ContextManager[Any]] | None = None) -> None:
        self.table = table
        self._context = context  # what identifies the current message, captured at each write
        self._enter = enter      # re-enters that message's context for the write-back
        self._cache: dict[str, Any] = {}
        self._dirty: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._cache:
            self._cache[key] = self.table[key]
        value = self._cache[key]
        if value is _DELETED:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self._cache[key] = value
        self._dirty[key] = self._context()

    def __delitem__(self, key: str) -> None:
        self._cache[key] = _DELETED
        self._dirty[key] = self._context()

    def __iter__(self) -> Iterator[str]:
        self.flush()
        return iter(self.table)

    def __len__(self) -> int:
        self.flush()
        return len(self.table)

    def flush(self) -> None:
        """Write every key changed since the last flush, once, and forget the cache.

        A value read but not written may have been changed in place (a step that failed half
        way): a table that keeps decoded values (`LiveValues`) is told to forget it, so the next
        read decodes what the table holds, as it would without the kept values.
        """
        forget = getattr(self.table, "forget", None)
        if forget is not None:
            for key in self._cache.keys() - self._dirty.keys():
                forget(key)
        for key, context in self._dirty.items():
            with self._enter(context) if self._enter else contextlib.nullcontext():
                value = self._cache[key]
                if value is _DELETED:
                    self.table.pop(key, None)
                else:
                    self.table[key] = value
        self._dirty.clear()
        self._cache.clear()


def as_json(table: MutableMapping) -> EncodedValues:
    return EncodedValues(table, lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode(),
                         json.loads)


def as_pickle(table: MutableMapping, live: int = 0) -> EncodedValues:
    """A pickling view; with `live` > 0 it keeps that many decoded values (`LiveValues`)."""
    # Only our own workers write these changelogs, which is what makes pickle acceptable here.
    dumps = lambda v: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)  # noqa: E731
    if live > 0:
        return LiveValues(table, dumps, pickle.loads, size=live)
    return EncodedValues(table, dumps, pickle.loads)


class as_current:  # noqa: N801 -- used as a function: `with as_current(event):`
    """Make `event` Faust's current event, so a table write goes to its partition's changelog.

    A class rather than a generator context manager: it is entered once or twice per event.
    """

    __slots__ = ("_ref", "_token")

    def __init__(self, event: Any) -> None:
        self._ref = weakref.ref(event) if event is not None else None

    def __enter__(self) -> None:
        self._token = _current_event.set(self._ref)

    def __exit__(self, *exc: Any) -> None:
        _current_event.reset(self._token)


# product_id -> state: latest listing facts, daily dose, pack facts, price per region, detector memory.
product_table = app.Table("products", key_type=str, value_type=bytes, partitions=settings.partitions)
# Written through, event by event (the product stage reads one event at a time on the rule path).
products = as_json(product_table)
# 通用名 -> GroupState (peer-group detectors, River objects inside).
group_table = app.Table("groups", key_type=str, value_type=bytes, partitions=settings.partitions)
# The live states of the most recently used groups are kept (PW_GROUP_CACHE_SIZE; ~20 KB each):
# unpickling one cost ~100 µs per event, and a batch rarely touches a group twice.
groups = WriteBack(as_pickle(group_table, live=settings.group_cache_size), current_event, as_current)


def changelog_topics() -> list[str]:
    """The changelog topic of every table (compacted; `pricewatch worker` creates them up front)."""
    return [table.changelog_topic.get_topic_name() for table in (product_table, group_table)]
