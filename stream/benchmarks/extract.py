"""Rule-engine throughput: inserts per second on one core over the dev corpus, and peak memory.

Two figures, because the engine memoises pure results: `cold` clears every cache before each
pass (each distinct text is parsed once per pass; repeats within the corpus still hit), `warm`
re-reads a corpus already seen (what a stream of re-listings and price changes mostly sees).
CPU time (`time.process_time`) is used so other processes on the machine do not count.
"""
from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

from rules.cost import cost_listing
from rules.dose import clear_caches, extract_daily_dose
from rules.numerals import normalise_text
from rules.simple import read_simple

__all__ = ["run_extract_benchmark", "load_inserts"]


def load_inserts(path: str | Path) -> list[dict[str, Any]]:
    """Insert records (JSONL) with name/spec/package/usage."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _one_pass(records: list[dict[str, Any]], with_cost: bool) -> float:
    start = time.process_time()
    for r in records:
        dose = extract_daily_dose(r.get("usage"), name=r.get("name"), spec=r.get("spec"), package=r.get("package"))
        if with_cost:
            cost_listing(dose, spec=r.get("spec"), package=r.get("package"), price=r.get("price", 10.0))
    return time.process_time() - start


def run_extract_benchmark(inserts_path: str | Path = "data/inserts_dev.jsonl", repeat: int = 3,
                          with_cost: bool = False) -> dict[str, Any]:
    """Inserts/s of the rule path (best of `repeat` passes), cold and warm, and peak memory.

    Parameters
    ----------
    inserts_path
        JSONL of inserts (the 2,112-record dev corpus by default).
    repeat
        Timed passes per figure; the best is reported (least disturbed by the machine).
    with_cost
        Also run `cost_listing` per record.
    """
    records = load_inserts(inserts_path)
    n = len(records)
    cold_times = []
    for _ in range(max(1, repeat)):
        clear_caches()
        cold_times.append(_one_pass(records, with_cost))
    warm_times = [_one_pass(records, with_cost) for _ in range(max(1, repeat))]
    clear_caches()
    tracemalloc.start()
    _one_pass(records, with_cost)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cold, warm = min(cold_times), min(warm_times)
    return {
        "benchmark": "extract",
        "records": n,
        "distinct_inputs": len({(r.get("usage"), r.get("name"), r.get("spec"), r.get("package")) for r in records}),
        "repeat": repeat,
        "with_cost": with_cost,
        "cold_inserts_per_s": round(n / cold, 1) if cold else None,
        "cold_us_per_insert": round(cold / n * 1e6, 2),
        "warm_inserts_per_s": round(n / warm, 1) if warm else None,
        "warm_us_per_insert": round(warm / n * 1e6, 3),
        "target_inserts_per_s": 20_000,
        # share of records read by the one-dose fast path (rules/simple.py) rather than the full scanner
        "fast_path_share": round(sum(read_simple(normalise_text(r.get("usage"))) is not None for r in records) / n, 3),
        "peak_memory_mb": round(peak / 2**20, 2),
        "clock": "process_time (one core)",
    }


if __name__ == "__main__":  # python -m stream.benchmarks.extract
    print(json.dumps(run_extract_benchmark(), indent=2))
