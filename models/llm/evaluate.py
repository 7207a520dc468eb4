"""Accuracy, routing and latency of the hybrid / llm extractors on labeled inserts.

A short development script (``pricewatch eval extraction`` is the product's command): it runs
one extractor over ``data/inserts_dev.labeled.jsonl`` against a running OpenAI-compatible
server and prints one JSON summary.

    python -m models.llm.evaluate --method hybrid --base-url http://127.0.0.1:8080 --dialect llama_cpp
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from models.llm.cache import AnswerCache
from models.llm.client import LLMClient
from models.llm.hybrid import LLMDoseExtractor, extract_many
from rules.dose import DoseResult

__all__ = ["agrees", "percentile", "evaluate", "main"]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return all(math.isclose(float(x), float(y), rel_tol=1e-3) for x, y in zip(a, b))


def agrees(result: DoseResult, label: dict[str, Any]) -> dict[str, bool]:
    """Which parts of a result match the label: determinable, daily (with unit), daily_count.

    >>> from rules.dose import DoseResult
    >>> label = {"determinable": True, "daily": [6, 6], "unit": "粒", "daily_count": [6, 6], "count_unit": "粒"}
    >>> agrees(DoseResult(True, None, (2, 2), (3, 3), (6.0, 6.0), "粒", (6.0, 6.0), "粒"), label)
    {'determinable': True, 'daily': True, 'daily_count': True}
    """
    determinable = result.determinable == label["determinable"]
    if not label["determinable"]:
        return {"determinable": determinable, "daily": determinable, "daily_count": determinable}
    daily = determinable and result.unit == label["unit"] and _same(result.daily, label["daily"])
    count = daily and _same(result.daily_count, label["daily_count"]) and result.count_unit == label["count_unit"]
    return {"determinable": determinable, "daily": daily, "daily_count": count}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile.

    >>> percentile([1, 2, 3, 4], 50), percentile([], 90)
    (2, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def evaluate(extractor: LLMDoseExtractor, labels: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    results = await extract_many(extractor, labels)
    wall_s = time.perf_counter() - started
    scores = [agrees(r, label) for r, label in zip(results, labels)]
    by_method: dict[str, list[bool]] = {}
    for result, score in zip(results, scores):
        by_method.setdefault(result.method, []).append(score["daily"])
    latencies = extractor.stats["llm_latencies_ms"]
    stats = {k: v for k, v in extractor.stats.items() if k != "llm_latencies_ms"}
    return {
        "method": extractor.mode, "model": extractor.client.model, "records": len(labels),
        "accuracy": {key: round(sum(s[key] for s in scores) / len(scores), 3) for key in scores[0]},
        "daily_correct_by_source": {m: f"{sum(v)}/{len(v)}" for m, v in sorted(by_method.items())},
        "stats": stats,
        "latency_ms": {f"p{q}": percentile(latencies, q) for q in (50, 90, 99)}
        | {"mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "wall_s": round(wall_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.llm.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=("hybrid", "llm"), default="hybrid")
    parser.add_argument("--labeled", type=Path, default=Path("data/inserts_dev.labeled.jsonl"))
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct")
    parser.add_argument("--dialect", choices=("vllm", "llama_cpp"), default="vllm")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--redis-url", default="", help="answer cache; empty: none")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    labels = [json.loads(line) for line in args.labeled.read_text(encoding="utf-8").splitlines() if line.strip()]
    client = LLMClient(args.base_url, args.model, dialect=args.dialect, timeout_s=args.timeout_s,
                       concurrency=args.concurrency)
    extractor = LLMDoseExtractor(client, mode=args.method, confidence_threshold=args.threshold,
                                 cache=AnswerCache(args.redis_url) if args.redis_url else None)

    async def go() -> dict[str, Any]:
        try:
            return await evaluate(extractor, labels[: args.limit])
        finally:
            await extractor.aclose()

    json.dump(asyncio.run(go()), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
