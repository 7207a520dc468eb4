"""`pricewatch report`: PNG plots and an HTML summary of a run's alerts and enriched events."""
from __future__ import annotations

import argparse
import sys

from rules.errors import PriceWatchError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="plot daily costs, price histories and alerts of a run into PNGs and an index.html",
        description="Reads price.alerts and drug.enriched records (JSONL, as `pricewatch replay` writes them) "
                    "and writes PNG plots and index.html into DIR.",
    )
    parser.add_argument("--alerts", required=True, metavar="ALERTS.jsonl", help="price.alerts records")
    parser.add_argument("--enriched", required=True, metavar="ENRICHED.jsonl",
                        help="drug.enriched records with event_type, event_id, ts and price")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--top-products", type=int, default=4, metavar="N",
                        help="price-history plots for the N most-alerted products (default 4)")
    parser.add_argument("--max-groups", type=int, default=12, metavar="N",
                        help="peer groups on the daily-cost plot (default 12)")
    parser.add_argument("--top-alerts", type=int, default=50, metavar="N",
                        help="alerts listed in the HTML table (default 50)")
    parser.add_argument("--ascii-labels", action="store_true",
                        help="do not look for a CJK font; label plots in ASCII")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stream.report import load_jsonl, write_report  # matplotlib loads only for this command

    try:
        alerts, enriched = load_jsonl(args.alerts), load_jsonl(args.enriched)
    except (OSError, PriceWatchError) as exc:
        print(f"pricewatch report: {exc}", file=sys.stderr)
        return 2
    files = write_report(alerts, enriched, args.out, top_products=args.top_products, max_groups=args.max_groups,
                         top_alerts=args.top_alerts, font=not args.ascii_labels)
    if files.cjk_font is None and not args.ascii_labels:
        print("pricewatch report: no CJK font found (install fonts-noto-cjk); plots use ASCII labels",
              file=sys.stderr)
    print(f"{args.out}/{files.index}: {len(alerts)} alerts, {len(enriched)} enriched events, "
          f"{len(files.plots)} plots")
    return 0
