"""`pricewatch eval extraction`: daily-dose accuracy against labeled inserts, and what was missed.

Correct = `determinable` matches and, when determinable, `daily` within ±0.5% with the same
unit (`rules.evaluation.judge`); `daily_count`/`count_unit` accuracy is reported apart. Misses
go to a human-readable file: id, usage, spec, expected vs got, failure kind, clause and why.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rules.dose import extract_daily_dose
from rules.evaluation import count_correct, judge, summarise

__all__ = ["register", "run"]

_FIELDS = ("determinable", "reason", "per_dose", "times_per_day", "daily", "unit", "daily_count", "count_unit")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extraction", help="daily-dose accuracy against labeled inserts",
        description="Accuracy of the daily-dose extractor on labeled inserts (DAILY_DOSE.md).",
    )
    parser.add_argument("--labels", type=Path, default=Path("data/inserts_dev.labeled.jsonl"))
    parser.add_argument("--inserts", type=Path, default=None,
                        help="insert records (JSONL); fills name/spec/package/usage the label lines lack")
    parser.add_argument("--misses", type=Path, default=Path("var/extraction_misses.txt"), help="misses are written here")
    parser.add_argument("--method", choices=("rules", "hybrid", "llm"), default="rules")
    parser.add_argument("--concurrency", type=int, default=8, help="LLM requests in flight (hybrid/llm)")
    parser.set_defaults(func=run)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _records(labels: list[dict[str, Any]], inserts_path: Path | None) -> list[dict[str, Any]]:
    inserts = {r["id"]: r for r in _read_jsonl(inserts_path)} if inserts_path else {}
    merged = []
    for label in labels:
        insert = inserts.get(label.get("id"), {})
        merged.append({k: label.get(k) if label.get(k) is not None else insert.get(k)
                       for k in ("id", "name", "spec", "package", "usage")} | {"label": label})
    return merged


async def _extract_all(records: list[dict[str, Any]], extractor: Any, concurrency: int) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(r: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            result = await extractor.extract(usage=r["usage"] or "", name=r["name"], spec=r["spec"], package=r["package"])
            return result.to_dict()

    return await asyncio.gather(*(one(r) for r in records))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _fmt(d: dict[str, Any]) -> str:
    if not d.get("determinable"):
        return f"not determinable ({d.get('reason')})"
    return (f"per_dose={d.get('per_dose')} times={d.get('times_per_day')} daily={d.get('daily')} {d.get('unit')}"
            f" | count={d.get('daily_count')} {d.get('count_unit')}")


def _write_misses(path: Path, rows: list[tuple[dict[str, Any], dict[str, Any], str | None, str | None]]) -> None:
    lines = []
    for record, got, kind, count_kind in rows:
        label = record["label"]
        lines += [
            f"## {record['id']}  [{kind or 'ok'}{' / ' + count_kind if count_kind else ''}]",
            f"name:     {record.get('name')}",
            f"spec:     {record.get('spec')}",
            f"package:  {record.get('package')}",
            f"usage:    {record.get('usage')}",
            f"expected: {_fmt(label)}",
            f"got:      {_fmt(got)}",
            f"clause:   {got.get('clause')}",
            f"why:      {got.get('why')}",
            f"note:     {label.get('note')}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    records = _records(_read_jsonl(args.labels), args.inserts)
    stats: dict[str, Any] = {}
    if args.method == "rules":
        results = [extract_daily_dose(r["usage"], name=r["name"], spec=r["spec"], package=r["package"]).to_dict()
                   for r in records]
    else:
        from models.extractor import build_extractor  # only the LLM paths need it
        from stream.settings import Settings

        extractor = build_extractor(args.method, Settings.from_env())
        results = asyncio.run(_extract_all(records, extractor, args.concurrency))
        stats = getattr(extractor, "stats", {}) or {}
    summary = summarise((got, r["label"]) for got, r in zip(results, records))
    misses, reasons = [], Counter()
    reason_total = reason_ok = 0
    for record, got in zip(records, results):
        label = record["label"]
        ok, kind = judge(got, label)
        c_ok, c_kind = count_correct(got, label) if label.get("determinable") else (True, None)
        if not label.get("determinable") and not got.get("determinable"):
            reason_total += 1
            reason_ok += got.get("reason") == label.get("reason")
            if got.get("reason") != label.get("reason"):
                reasons[f"{label.get('reason')}→{got.get('reason')}"] += 1
        if not ok or not c_ok:
            misses.append((record, got, kind, c_kind))
    print(f"method: {args.method}   labels: {summary['n']}   ({args.labels})")
    print(f"daily-dose accuracy:  {summary['accuracy']:.1%}  (determinable, daily ±0.5%, unit)")
    print(f"daily_count accuracy: {summary['count_accuracy']:.1%}  (daily_count + count_unit, over {summary['count_n']} determinable labels)")
    if reason_total:
        print(f"reason agreement:     {reason_ok / reason_total:.1%}  (over {reason_total} both not determinable)")
    print("failures by kind:", json.dumps(summary["failures"], ensure_ascii=False) or "{}")
    print("count failures:  ", json.dumps(summary["count_failures"], ensure_ascii=False) or "{}")
    if reasons:
        print("reason mismatches:", json.dumps(dict(reasons), ensure_ascii=False))
    if "llm_calls" in stats or "routed" in stats:
        routed = stats.get("routed", stats.get("llm_calls"))
        print(f"routed to LLM: {routed} of {len(records)}   (LLM calls: {stats.get('llm_calls')}, "
              f"cache hits: {stats.get('cache_hits', 0)}, errors: {stats.get('llm_errors', 0)})")
    latencies = [float(x) for x in stats.get("llm_latencies_ms") or []]
    if latencies:
        print("LLM latency ms: p50 {:.0f}  p90 {:.0f}  p99 {:.0f}  (mean {:.0f})".format(
            _percentile(latencies, 0.5), _percentile(latencies, 0.9), _percentile(latencies, 0.99),
            statistics.fmean(latencies)))
    _write_misses(args.misses, misses)
    print(f"misses: {len(misses)} → {args.misses}", file=sys.stderr)
    return 0
