"""`pricewatch eval extraction|alerts`: accuracy of the daily-dose engine and of the alert detectors."""
from __future__ import annotations

import argparse

from stream.commands import eval_alerts, eval_extraction

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate extraction or alerts against labels")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    eval_extraction.register(targets)
    eval_alerts.register(targets)
