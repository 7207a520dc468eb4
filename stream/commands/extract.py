"""`pricewatch extract`: daily dose and daily cost for every line of a JSONL file.

The rule engine by default; `--method hybrid` asks the LLM for the texts the rules are unsure
of, `--method llm` for every text (both need an OpenAI-compatible server, `PW_VLLM_BASE_URL`).

Each input line is a JSON object with `id` and any of name, spec, package, pack_qty, min_unit,
usage, price. Each output line has the same `id` and the `DoseResult` and `CostResult` fields.
A line that is not JSON, or has no usage, gives an error record for that id (or line number).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rules.cost import cost_listing
from rules.dose import DoseResult, extract_daily_dose

__all__ = ["register", "run", "extract_record"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract", help="daily dose and daily cost for each record of a JSONL file",
        description="Read inserts/listings (JSONL) and write one daily-dose + daily-cost record per line.",
    )
    parser.add_argument("--input", required=True, type=Path, help="JSONL: id, usage, name, spec, package, pack_qty, min_unit, price")
    parser.add_argument("--output", required=True, type=Path, help="JSONL written here, one result per input line")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--method", choices=("rules", "hybrid", "llm"), default="rules",
                        help="rules (default), hybrid (LLM when the rules are unsure) or llm")
    parser.add_argument("--vllm-base-url", help="OpenAI-compatible base URL (PW_VLLM_BASE_URL)")
    parser.add_argument("--llm-dialect", choices=("vllm", "llama_cpp"), help="request shape (PW_LLM_DIALECT)")
    parser.set_defaults(func=run)


def extract_record(record: Any, line_no: int, dose: DoseResult | None = None) -> dict[str, Any]:
    """The output record for one parsed input line (an error record when it cannot be read).

    `dose`, when given, is a reading already made (by the LLM path); else the rules read it.

    Examples
    --------
    >>> out = extract_record({"id": "a", "usage": "口服。一次2粒，一日3次。", "spec": "0.3g*12粒*2板", "price": 12}, 1)
    >>> out["id"], out["daily"], out["daily_count"], out["unit_price"], out["daily_cost"]
    ('a', [6, 6], [6, 6], 0.5, [3.0, 3.0])
    >>> extract_record({"id": "b"}, 2)["error"]
    'no usage'
    """
    if not isinstance(record, dict):
        return {"id": line_no, "error": "not a JSON object"}
    record_id = record.get("id", line_no)
    usage = record.get("usage")
    if not isinstance(usage, str) or not usage.strip():
        return {"id": record_id, "error": "no usage"}

    def text(key: str) -> str | None:
        value = record.get(key)
        return value if isinstance(value, str) else None

    if dose is None:
        dose = extract_daily_dose(usage, name=text("name"), spec=text("spec"), package=text("package"))
    cost = cost_listing(dose, spec=text("spec"), package=text("package"), pack_qty=record.get("pack_qty"),
                        min_unit=text("min_unit"), price=record.get("price"))
    return {"id": record_id, **dose.to_dict(), **cost.to_dict()}


def run(args: argparse.Namespace) -> int:
    try:
        lines = args.input.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        print(f"pricewatch extract: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    readings = _llm_readings(lines, args) if args.method != "rules" else {}
    errors = determinable = 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as out:
        for line_no, line in enumerate(tqdm(lines, desc="extract", unit="line", file=sys.stderr,
                                            disable=getattr(args, "no_progress", False)), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                result: dict[str, Any] = {"id": line_no, "error": f"invalid JSON: {exc.msg}"}
            else:
                result = extract_record(record, line_no, readings.get(line_no))
            errors += "error" in result
            determinable += bool(result.get("determinable"))
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    print(f"extract: {len(lines)} lines, {determinable} determinable, {errors} errors → {args.output}", file=sys.stderr)
    return 0


def _llm_readings(lines: list[str], args: argparse.Namespace) -> dict[int, DoseResult]:
    """Doses for every readable line through the hybrid or LLM extractor, concurrently and in order."""
    import asyncio

    from models.extractor import build_extractor
    from models.llm.hybrid import extract_many
    from stream.settings import Settings

    overrides = {k: v for k, v in (("vllm_base_url", args.vllm_base_url), ("llm_dialect", args.llm_dialect)) if v}
    extractor = build_extractor(args.method, Settings.from_env().with_(**overrides))
    items: dict[int, dict[str, Any]] = {}
    for line_no, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("usage"), str) and record["usage"].strip():
            items[line_no] = record

    async def read_all() -> list[DoseResult]:
        try:
            return await extract_many(extractor, list(items.values()))
        finally:
            await extractor.aclose()

    doses = asyncio.run(read_all())
    print(f"extract: {args.method}: {extractor.stats.get('llm_calls', 0)} LLM calls, "
          f"{extractor.stats.get('llm_rejected', 0)} answers rejected as ungrounded", file=sys.stderr)
    return dict(zip(items, doses))
