"""Per-key state, in Faust tables whose changelogs bring it back after a restart."""
from __future__ import annotations

import pickle
from collections.abc import MutableMapping
from typing import Any, Iterator

from stream.app import app, settings

__all__ = ["products", "groups", "PickledValues"]


class PickledValues(MutableMapping):
    """A view of a bytes-valued table that stores Python objects pickled.

    Faust 0.15 picks a table's serializer from its value type, so a table of plain objects
    would be written as JSON; the group state holds River models, which only pickle can keep.
    Only our own workers write this changelog, which is what makes pickle acceptable here.

    >>> view = PickledValues({})
    >>> view["银杏叶片"] = {"n": 3}
    >>> view["银杏叶片"], view.get("none")
    ({'n': 3}, None)
    """

    def __init__(self, table: MutableMapping) -> None:
        self.table = table

    def __getitem__(self, key: str) -> Any:
        return pickle.loads(self.table[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def __delitem__(self, key: str) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.table.get(key)
        return default if raw is None else pickle.loads(raw)


# product_id -> JSON state: latest listing, daily dose, pack facts, price per region, detector memory.
products = app.Table("products", key_type=str, partitions=settings.partitions)
# 通用名 -> pickled GroupState (peer-group detectors, River objects inside).
group_table = app.Table("groups", key_type=str, value_type=bytes, partitions=settings.partitions)
groups = PickledValues(group_table)
