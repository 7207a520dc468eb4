"""`pricewatch eval alerts`: the alert detectors against a labeled feed (e.g. from `pricewatch simulate`).

Runs the feed through `stream.replay.run_replay` (the very processing the stream runs), then
scores the alerts per event against ``truth.jsonl`` (``{"event_id", "type", "case"}`` per event;
a row with ``"hard_negative": true`` counts as a hard negative whatever its case):
event-level precision, recall and F1 (an event is flagged when it raised any alert), per-type
recall and precision, the share of true positives whose alerts include the right type, and
the alert rate on hard negatives (cases that must not alert).
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["register", "run", "evaluate", "format_report"]

ALERT_TYPES = ("peer_outlier", "price_jump", "hidden_increase", "cross_region_gap", "ratio_rule_violation",
               "dose_outlier")


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def evaluate(truth: Iterable[Mapping[str, Any]], alerts: Iterable[Mapping[str, Any]],
             hard_negatives: Iterable[str]) -> dict[str, Any]:
    """Scores of `alerts` against `truth` (one row per event).

    Examples
    --------
    >>> truth = [{"event_id": "a", "type": "price_jump", "case": "price_jump"},
    ...          {"event_id": "b", "type": None, "case": "small_move"},
    ...          {"event_id": "c", "type": "peer_outlier", "case": "peer_outlier"}]
    >>> alerts = [{"event_id": "a", "type": "price_jump"}, {"event_id": "c", "type": "hidden_increase"}]
    >>> r = evaluate(truth, alerts, {"small_move"})
    >>> r["precision"], r["recall"], r["type_right"], r["hard_negative_alert_rate"]
    (1.0, 1.0, 0.5, 0.0)
    """
    hard = set(hard_negatives)
    raised: dict[str, set[str]] = defaultdict(set)
    for alert in alerts:
        raised[alert["event_id"]].add(alert["type"])
    tp = fp = fn = right = hard_n = hard_hit = 0
    negatives: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # case -> [events, alerted]
    def blank() -> dict[str, int]:
        return {"true": 0, "found": 0, "alerted": 0, "correct": 0, "other_positive": 0}

    per_type: dict[str, dict[str, int]] = {t: blank() for t in ALERT_TYPES}
    seen = set()
    for row in truth:
        seen.add(row["event_id"])
        types, kind = raised.get(row["event_id"], set()), row.get("type")
        for t in types:
            per_type.setdefault(t, blank())["alerted"] += 1
            per_type[t]["other_positive"] += bool(kind) and kind != t  # a second true rule on a positive event
        if kind:
            stats = per_type.setdefault(kind, blank())
            stats["true"] += 1
            stats["found"] += kind in types
            stats["correct"] += kind in types
            if types:
                tp += 1
                right += kind in types
            else:
                fn += 1
        else:
            fp += bool(types)
            counts = negatives[str(row.get("case"))]
            counts[0] += 1
            counts[1] += bool(types)
        if row.get("case") in hard or row.get("hard_negative") is True:
            hard_n += 1
            hard_hit += bool(types)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {
        "events": len(seen), "positives": tp + fn, "alerted_events": tp + fp, "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1, "type_right": _ratio(right, tp),
        "hard_negatives": hard_n, "hard_negative_alerts": hard_hit,
        "hard_negative_alert_rate": _ratio(hard_hit, hard_n),
        "alerts_without_truth": sorted(set(raised) - seen)[:10],
        "negatives_by_case": {case: {"events": n, "alerted": hit} for case, (n, hit) in sorted(negatives.items())},
        "per_type": {t: {"true": s["true"], "alerted": s["alerted"], "on_other_positives": s["other_positive"],
                         "recall": _ratio(s["found"], s["true"]), "precision": _ratio(s["correct"], s["alerted"])}
                     for t, s in per_type.items()},
    }


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_report(result: Mapping[str, Any]) -> str:
    """The evaluation as a small text table."""
    lines = [f"{'type':<22} {'true':>5} {'alerted':>7} {'recall':>7} {'precision':>9}  on other positives"]
    for t, s in result["per_type"].items():
        lines.append(f"{t:<22} {s['true']:>5} {s['alerted']:>7} {_fmt(s['recall']):>7} {_fmt(s['precision']):>9}"
                     f"  {s['on_other_positives']:>5}")
    lines.append("(precision counts only events labeled with that type; a jump that also opens a regional "
                 "gap raises both alerts, the second lands 'on other positives')")
    lines += [
        "",
        f"events {result['events']}  positives {result['positives']}  alerted events {result['alerted_events']}",
        f"event-level  precision {_fmt(result['precision'])}  recall {_fmt(result['recall'])}  F1 {_fmt(result['f1'])}",
        f"true positives with the right type  {_fmt(result['type_right'])}",
        f"hard negatives {result['hard_negatives']}  alerted {result['hard_negative_alerts']}  "
        f"rate {_fmt(result['hard_negative_alert_rate'])}",
        "negatives by case: " + ", ".join(f"{case} {c['alerted']}/{c['events']}"
                                          for case, c in result["negatives_by_case"].items()),
    ]
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    from stream.simulator import HARD_NEGATIVES  # the simulator names the hard-negative cases

    parser = subparsers.add_parser("alerts", help="score the alert detectors on a labeled feed (events + truth)")
    parser.add_argument("--events", required=True, type=Path, help="feed JSONL (as written by pricewatch simulate)")
    parser.add_argument("--truth", required=True, type=Path, help="truth JSONL: event_id, type (or null), case")
    parser.add_argument("--hard-negatives", default=",".join(sorted(HARD_NEGATIVES)),
                        help="comma-separated truth cases that must not alert (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.replay import read_feed, run_replay  # imported late: the parser must build without Faust

    truth = [json.loads(line) for line in open(args.truth, encoding="utf-8") if line.strip()]
    result = run_replay(read_feed(args.events))
    report = evaluate(truth, result.alerts, [c for c in args.hard_negatives.split(",") if c])
    report["deadletters"] = len(result.deadletters)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0
