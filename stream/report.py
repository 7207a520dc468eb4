"""An offline report of a run: PNG plots of daily costs, price histories and alerts, and an HTML summary.

Reads what a run wrote (`price.alerts` records and `drug.enriched` records, the latter with
`event_type`, `event_id`, `ts` and `price`, as `pricewatch replay` writes them) and renders, with
matplotlib's Agg backend:

- `peer_groups.png`: the daily cost of every product in the largest and most-alerted peer groups
  (same generic name and dosage form), with the alerted events marked;
- `price_<n>.png`: the price history of each of the most-alerted products, one line per region,
  with its alerts marked;
- `alerts_by_type.png`: alert counts by type, stacked by severity;
- `index.html`: the plots and a table of the top alerts with their Chinese explanations.

Chinese labels need a CJK font (Debian: `fonts-noto-cjk`). Without one, plots label peer groups
`G1, G2 …` and products by `product_id`; `index.html` (rendered by the browser) keeps the Chinese.
"""
from __future__ import annotations

import html
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, never a display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from rules.errors import InvalidEventError  # noqa: E402

__all__ = ["ReportFiles", "load_jsonl", "midpoint", "cjk_font", "peer_groups", "write_report"]

Record = dict[str, Any]

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_COLORS = {"low": "#9ecae1", "medium": "#fdae6b", "high": "#e6550d", "critical": "#a50f15"}
TYPE_COLORS = {
    "peer_outlier": "#d62728", "price_jump": "#ff7f0e", "hidden_increase": "#9467bd",
    "cross_region_gap": "#1f77b4", "ratio_rule_violation": "#8c564b", "dose_outlier": "#7f7f7f",
}
TYPE_MARKERS = {
    "peer_outlier": "X", "price_jump": "^", "hidden_increase": "s",
    "cross_region_gap": "D", "ratio_rule_violation": "P", "dose_outlier": "o",
}
# Alerts about a product's daily cost against its peers: the ones marked on the peer-group plot.
COST_ALERT_TYPES = frozenset({"peer_outlier", "hidden_increase", "ratio_rule_violation", "dose_outlier"})
# Families tried in order; the first matplotlib knows is used for Chinese text.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "Noto Serif CJK SC", "Source Han Serif SC", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN",
    "Noto Sans CJK JP", "Noto Serif CJK JP",
)


@dataclass
class ReportFiles:
    """What `write_report` wrote, relative to the output folder, and whether plots have Chinese labels."""

    index: str = "index.html"
    plots: list[str] = field(default_factory=list)
    cjk_font: str | None = None


def load_jsonl(path: str | Path) -> list[Record]:
    """The JSON objects of a JSONL file, one a line; blank lines are skipped.

    Raises `InvalidEventError` naming the file and line of the first line that is not an object.
    """
    records = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidEventError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise InvalidEventError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
            records.append(record)
    return records


def midpoint(daily_cost: Any) -> float | None:
    """One number for a daily cost given as `[min, max]`, a number, or null.

    >>> midpoint([1.0, 2.0]), midpoint(3), midpoint(None), midpoint([None, None])
    (1.5, 3.0, None, None)
    """
    if isinstance(daily_cost, (int, float)) and not isinstance(daily_cost, bool):
        return float(daily_cost) if math.isfinite(daily_cost) else None
    if isinstance(daily_cost, (list, tuple)) and len(daily_cost) == 2:
        low, high = (midpoint(v) for v in daily_cost)
        if low is not None and high is not None:
            return (low + high) / 2
    return None


def cjk_font(families: Sequence[str] = CJK_FAMILIES) -> str | None:
    """The first of `families` matplotlib can draw with, or None when no CJK font is installed."""
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in families if family in known), None)


def _time(ts: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return None


def _severity_rank(alert: Record) -> int:
    return SEVERITIES.index(alert.get("severity")) if alert.get("severity") in SEVERITIES else -1


def _score(alert: Record) -> float:
    score = alert.get("score")
    return float(score) if isinstance(score, (int, float)) and math.isfinite(score) else 0.0


def peer_groups(enriched: Iterable[Record]) -> dict[tuple[str, str], dict[str, float]]:
    """Each peer group's products with their latest daily cost (midpoint), by `(generic_name, dosage_form)`.

    A product listed in several regions counts once per region (`product_id@region`).

    >>> groups = peer_groups([
    ...     {"generic_name": "银杏叶片", "dosage_form": "片剂", "product_id": "A", "region": "GD", "daily_cost": [1, 2]},
    ...     {"generic_name": "银杏叶片", "dosage_form": "片剂", "product_id": "A", "region": "GD", "daily_cost": [2, 2]},
    ...     {"generic_name": "银杏叶片", "dosage_form": "片剂", "product_id": "B", "region": "GD", "daily_cost": None}])
    >>> groups
    {('银杏叶片', '片剂'): {'A@GD': 2.0}}
    """
    groups: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for record in enriched:
        cost = midpoint(record.get("daily_cost"))
        if cost is None or cost <= 0 or not record.get("generic_name"):
            continue
        key = (str(record["generic_name"]), str(record.get("dosage_form") or "?"))
        groups[key][f"{record.get('product_id')}@{record.get('region')}"] = cost
    return dict(groups)


class _Labels:
    """Chinese text on plots when a CJK font exists, an ASCII stand-in otherwise."""

    def __init__(self, font: str | None) -> None:
        self.font = font

    def __call__(self, chinese: str, ascii_fallback: str) -> str:
        return chinese if self.font or chinese.isascii() else ascii_fallback

    def rc(self) -> dict[str, Any]:
        families = [self.font, "DejaVu Sans"] if self.font else ["DejaVu Sans"]  # per-glyph fallback
        return {"font.family": families, "axes.unicode_minus": False, "figure.dpi": 110}


def _plot_peer_groups(enriched: list[Record], alerts: list[Record], path: Path, labels: _Labels,
                      max_groups: int) -> list[tuple[str, str]]:
    """Strip plot of daily costs per peer group; returns the (plot label, group name) legend."""
    groups = {key: costs for key, costs in peer_groups(enriched).items() if len(costs) >= 2}
    marked: dict[tuple[str, str], list[tuple[float, Record]]] = defaultdict(list)
    group_of = {r.get("product_id"): (str(r.get("generic_name")), str(r.get("dosage_form") or "?")) for r in enriched}
    for alert in alerts:
        cost = midpoint(alert.get("daily_cost"))
        if alert.get("type") in COST_ALERT_TYPES and cost and cost > 0 and alert.get("product_id") in group_of:
            marked[group_of[alert["product_id"]]].append((cost, alert))
    chosen = sorted(groups, key=lambda k: (-len(marked.get(k, ())), -len(groups[k]), k))[:max_groups]
    chosen.reverse()  # matplotlib draws the first row at the bottom; keep the most alerted on top

    legend = []
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.55 * max(len(chosen), 1)))
    for row, key in enumerate(chosen):
        costs = sorted(groups[key].values())
        code = f"G{len(chosen) - row}"
        legend.append((code, f"{key[0]} · {key[1]}"))
        ax.boxplot([costs], positions=[row], orientation="horizontal", widths=0.5, showfliers=False,
                   medianprops={"color": "#333"}, boxprops={"color": "#999"}, whiskerprops={"color": "#999"})
        jitter = [row + 0.18 * math.sin(i * 2.4) for i in range(len(costs))]  # deterministic spread
        ax.scatter(costs, jitter, s=14, color="#1f77b4", alpha=0.7, zorder=3,
                   label="product (latest daily cost)" if row == 0 else None)
        for cost, alert in marked.get(key, ()):
            ax.scatter([cost], [row], s=90, marker="X", color=TYPE_COLORS.get(alert["type"], "#d62728"),
                       edgecolor="black", linewidth=0.5, zorder=4)
    shown_types = sorted({a["type"] for k in chosen for _, a in marked.get(k, ())})
    for alert_type in shown_types:  # one legend entry per alert type actually drawn
        ax.scatter([], [], s=90, marker="X", color=TYPE_COLORS.get(alert_type, "#d62728"),
                   edgecolor="black", linewidth=0.5, label=f"alert: {alert_type}")
    ax.set_yticks(range(len(chosen)))
    ax.set_yticklabels([labels(f"{k[0]} · {k[1]} ({len(groups[k])})", f"G{len(chosen) - i} ({len(groups[k])})")
                        for i, k in enumerate(chosen)])
    if chosen:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 10 rather than 10¹
        ax.xaxis.set_minor_formatter(FuncFormatter(  # label 2 and 5 of each decade only: readable over any range
            lambda value, _: f"{value:g}" if f"{value:e}"[0] in "25" else ""))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        ax.text(0.5, 0.5, "no peer group with two or more costed products", ha="center", transform=ax.transAxes)
    ax.set_xlabel("daily cost, CNY/day (log scale); (n) = listings, one per product and region")
    ax.set_title("Daily cost by peer group (generic name · dosage form), alerted events marked")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return sorted(legend, key=lambda item: int(item[0][1:]))


def _plot_price_history(product_id: str, enriched: list[Record], alerts: list[Record], path: Path,
                        labels: _Labels) -> None:
    fig, ax = plt.subplots(figsize=(10, 4))
    by_region: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for record in enriched:
        when, price = _time(record.get("ts")), record.get("price")
        if when and isinstance(price, (int, float)):
            by_region[str(record.get("region"))].append((when, float(price)))
    end = max((t for points in by_region.values() for t, _ in points), default=None)
    for number, (region, points) in enumerate(sorted(by_region.items())):
        points.sort()
        times, prices = [t for t, _ in points], [p for _, p in points]
        ax.plot(times, prices, "o", markersize=3, color=f"C{number}")
        # the last price holds until the product's last event, so a region priced once still shows a line
        ax.step(times + [end], prices + prices[-1:], where="post", color=f"C{number}", label=f"price · {region}")
    for order, alert_type in enumerate(sorted({a.get("type") for a in alerts})):
        times = [(t, a) for a in alerts if a.get("type") == alert_type and (t := _time(a.get("ts")))]
        for when, _ in times:
            ax.axvline(when, color=TYPE_COLORS.get(alert_type, "#d62728"), alpha=0.5, linestyle="--", linewidth=1)
        prices = [_price_at(by_region, str(a.get("region")), when) for when, a in times]
        ax.scatter([t for (t, _), p in zip(times, prices) if p is not None], [p for p in prices if p is not None],
                   s=max(130 - 35 * order, 30), marker=TYPE_MARKERS.get(alert_type, "X"),  # shrinking: overlaps show
                   color=TYPE_COLORS.get(alert_type, "#d62728"), edgecolor="black", linewidth=0.5,
                   zorder=4 + order, label=f"alert: {alert_type} ({len(times)})")
    first = enriched[0] if enriched else (alerts[0] if alerts else {})
    name = f"{first.get('generic_name', '')} · {first.get('manufacturer', '')}"
    ax.set_title(f"Price history of {product_id}  {labels(name, '')}".rstrip())
    ax.set_ylabel("price per pack, CNY")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _price_at(by_region: dict[str, list[tuple[datetime, float]]], region: str, when: datetime) -> float | None:
    """The region's price in force at `when` (the last one at or before it)."""
    before = [price for t, price in by_region.get(region, ()) if t <= when]
    return before[-1] if before else None


def _plot_alerts_by_type(alerts: list[Record], path: Path) -> None:
    counts = Counter((a.get("type", "?"), a.get("severity", "?")) for a in alerts)
    types = sorted({t for t, _ in counts}, key=lambda t: -sum(n for (t2, _), n in counts.items() if t2 == t))
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.5 * max(len(types), 1)))
    left = [0] * len(types)
    for severity in (*SEVERITIES, "?"):
        widths = [counts.get((t, severity), 0) for t in types]
        if any(widths):
            ax.barh(types, widths, left=left, color=SEVERITY_COLORS.get(severity, "#cccccc"), label=severity)
            left = [a + b for a, b in zip(left, widths)]
    for row, total in enumerate(left):
        ax.text(total, row, f" {total}", va="center", fontsize=9)
    if types:
        ax.invert_yaxis()  # the most frequent type on top
        ax.legend(title="severity", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        ax.text(0.5, 0.5, "no alerts", ha="center", transform=ax.transAxes)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("alerts")
    ax.set_title(f"Alerts by type and severity ({len(alerts)} in all)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _html(alerts: list[Record], enriched: list[Record], files: ReportFiles, group_legend: list[tuple[str, str]],
          product_plots: list[tuple[str, str, int]], top_alerts: int) -> str:
    esc = html.escape
    ranked = sorted(alerts, key=lambda a: (-_severity_rank(a), -_score(a), str(a.get("ts"))))[:top_alerts]
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in (
            a.get("ts", ""), a.get("type", ""), a.get("severity", ""), f"{_score(a):.2f}", a.get("product_id", ""),
            a.get("generic_name", ""), a.get("manufacturer", ""), a.get("region", ""),
            "" if midpoint(a.get("daily_cost")) is None else f"{midpoint(a.get('daily_cost')):.2f}",
            a.get("explanation", ""))) + "</tr>"
        for a in ranked)
    legend = "".join(f"<li><b>{esc(code)}</b> {esc(name)}</li>" for code, name in group_legend)
    products = "".join(
        f'<h3>{esc(pid)} · {esc(name)} ({count} alerts)</h3>'
        f'<img src="price_{number}.png" alt="price history of {esc(pid)}">'
        for number, (pid, name, count) in enumerate(product_plots, 1))
    font_note = "" if files.cjk_font else (
        "<p><i>No CJK font was found when the plots were drawn: peer groups are labelled G1, G2 … "
        "(names below). Install fonts-noto-cjk for Chinese labels.</i></p>")
    products_count = len({r.get("product_id") for r in enriched})
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>pricewatch report</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; margin: .5em 0 1.5em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ddd; padding: 4px 6px; vertical-align: top; }}
th {{ background: #f4f4f4; text-align: left; }}
</style></head><body>
<h1>pricewatch report</h1>
<p>{len(enriched)} enriched events, {products_count} products, {len(alerts)} alerts.</p>
{font_note}
<h2>Alerts by type</h2><img src="alerts_by_type.png" alt="alerts by type">
<h2>Daily cost by peer group</h2><img src="peer_groups.png" alt="daily cost by peer group">
<ul>{legend}</ul>
<h2>Most-alerted products</h2>{products or "<p>No alerts.</p>"}
<h2>Top {len(ranked)} alerts (by severity, then score)</h2>
<table><tr><th>time</th><th>type</th><th>severity</th><th>score</th><th>product</th><th>通用名</th>
<th>生产企业</th><th>region</th><th>daily cost (CNY)</th><th>explanation</th></tr>
{rows}
</table></body></html>
"""


def _top_products(alerts: list[Record], count: int) -> list[tuple[str, str, int]]:
    tally = Counter(str(a.get("product_id")) for a in alerts if a.get("product_id"))
    names = {str(a.get("product_id")): f"{a.get('generic_name', '')} {a.get('manufacturer', '')}".strip() for a in alerts}
    return [(pid, names.get(pid, ""), n) for pid, n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))[:count]]


def write_report(alerts: list[Record], enriched: list[Record], out_dir: str | Path, *, top_products: int = 4,
                 max_groups: int = 12, top_alerts: int = 50, font: str | None | bool = True) -> ReportFiles:
    """Render the plots and `index.html` into `out_dir` (created if needed).

    Parameters
    ----------
    alerts
        `price.alerts` records.
    enriched
        `drug.enriched` records with `event_type`, `event_id`, `ts` and `price`.
    out_dir
        The folder written to; existing files of the same names are replaced.
    top_products
        How many of the most-alerted products get a price-history plot.
    max_groups
        How many peer groups the daily-cost plot shows (most alerted, then largest).
    top_alerts
        How many alerts the HTML table lists.
    font
        True: look for a CJK font; a family name: use it; None or False: ASCII labels.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    family = cjk_font() if font is True else (font or None)
    labels = _Labels(family)
    files = ReportFiles(cjk_font=family)
    with plt.rc_context(labels.rc()):
        _plot_alerts_by_type(alerts, out / "alerts_by_type.png")
        group_legend = _plot_peer_groups(enriched, alerts, out / "peer_groups.png", labels, max_groups)
        files.plots += ["alerts_by_type.png", "peer_groups.png"]
        products = _top_products(alerts, top_products)
        for number, (product_id, _, _) in enumerate(products, 1):
            name = f"price_{number}.png"
            _plot_price_history(product_id, [r for r in enriched if str(r.get("product_id")) == product_id],
                                [a for a in alerts if str(a.get("product_id")) == product_id], out / name, labels)
            files.plots.append(name)
    page = _html(alerts, enriched, files, group_legend, products, top_alerts)
    (out / files.index).write_text(page, encoding="utf-8")
    return files

