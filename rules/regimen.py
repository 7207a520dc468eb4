"""One candidate regimen: an amount read from the text and the markers in force where it stands.

`rules.dose` scans a text into `Regimen`s; `rules.selection` picks one by the DAILY_DOSE.md rules and
`rules.conversion` turns its daily amount into the spec's countable unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rules.forms import Form

__all__ = ["Regimen", "Range"]

Range = tuple[float, float]


@dataclass(slots=True)
class Regimen:
    """One candidate regimen: an amount and the markers in force where it stands."""

    index: int
    start: int
    end: int
    kind: str  # "dose" (per administration), "daily" (stated daily total), "bare"
    amount: Range
    unit: str
    times: Range | None = None
    split: Range | None = None  # 分N次 after a daily total
    daily_total: tuple[Range, str] | None = None  # 一次2袋，一日2～3袋
    per_body: bool = False
    population: str = "adult"  # adult | child | band | elderly
    band: tuple[float, float] | None = None
    form: Form | None = None
    route: str | None = None
    loading: bool = False
    section: int = 0
    sub: int = 0
    sentence: int = 0
    clause_no: int = 0
    clause_start: int = 0
    explicit_total: bool = False  # 每天总量 / 每日总剂量
    maintenance: bool = False  # introduced by 维持量 / 以后 / 然后
    explicit_maintenance: bool = False  # named 维持量: preferred over a 以后 or 一般用量 phase
    freq_at: int = -1  # where its frequency phrase starts
    group: int = 0  # stretch between ; or 。: a frequency there with an amount of its own is that amount's
    notes: list[str] = field(default_factory=list)
