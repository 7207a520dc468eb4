"""Per-key state, in Faust tables whose changelogs bring it back after a restart.

Both tables hold bytes and are used through `EncodedValues` views: a product's state kept as
compact JSON costs a fifth of the memory of the same state as Python objects (the worker holds
every product of its partitions), and the peer groups' River models only pickle.
"""
from __future__ import annotations

import json
import pickle
from collections.abc import MutableMapping
from typing import Any, Callable, Iterator

from stream.app import app, settings

__all__ = ["products", "groups", "EncodedValues", "as_json", "as_pickle"]


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


def as_json(table: MutableMapping) -> EncodedValues:
    return EncodedValues(table, lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode(),
                         json.loads)


def as_pickle(table: MutableMapping) -> EncodedValues:
    # Only our own workers write these changelogs, which is what makes pickle acceptable here.
    return EncodedValues(table, lambda v: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL), pickle.loads)


# product_id -> state: latest listing facts, daily dose, pack facts, price per region, detector memory.
product_table = app.Table("products", key_type=str, value_type=bytes, partitions=settings.partitions)
products = as_json(product_table)
# 通用名 -> GroupState (peer-group detectors, River objects inside).
group_table = app.Table("groups", key_type=str, value_type=bytes, partitions=settings.partitions)
groups = as_pickle(group_table)
