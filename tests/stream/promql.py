"""The PromQL of the Grafana dashboards, made concrete, and a small client to run it on a real Prometheus.

`panel_queries` lists every panel's expressions; `concrete` replaces Grafana's `$__rate_interval`,
`$__range` … and template variables so Prometheus (or `promtool`) can parse the expression;
`metric_names` lists the metrics an expression reads; `query` runs an instant query, and
`panels_without_data` runs them all:

    missing = panels_without_data(prom_url, panel_queries(DASHBOARDS), intervals={"__rate_interval": "30s"})
    assert not missing, missing
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import httpx

__all__ = ["PanelQuery", "panel_queries", "concrete", "metric_names", "query", "panels_without_data"]

PanelQuery = tuple[str, str, str]  # (dashboard file name, panel title, expression as written in the dashboard)

# Grafana's built-in interval variables and what a test substitutes for them.
GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()")
_KEYWORDS = frozenset({
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "atan2",
})


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", ()))


def panel_queries(dashboard_paths: Iterable[str | Path]) -> list[PanelQuery]:
    """`(dashboard, panel title, expr)` for every Prometheus target of every panel of the dashboards."""
    found = []
    for path in dashboard_paths:
        dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
        for panel in _panels(dashboard.get("panels", ())):
            for target in panel.get("targets", ()):
                if target.get("expr"):
                    found.append((Path(path).name, panel.get("title", ""), target["expr"]))
    return found


def concrete(expr: str, *, intervals: dict[str, str] | None = None, variables: dict[str, str] | None = None) -> str:
    """The expression with Grafana's variables replaced: intervals by durations, template variables by `.*`.

    Template variables are only used inside `=~` matchers, where `.*` means "All".

    >>> concrete('sum by (le) (rate(m_bucket{form=~"$dosage_form"}[$__rate_interval]))')
    'sum by (le) (rate(m_bucket{form=~".*"}[1m]))'
    """
    values = {**GRAFANA_INTERVALS, **(intervals or {})}

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return values.get(name, (variables or {}).get(name, ".*"))

    return _VARIABLE.sub(replace, expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (not functions, labels, keywords or durations).

    >>> sorted(metric_names('histogram_quantile(0.9, sum by (le, form) (rate(a_bucket{x="y"}[5m]))) / on (form) b'))
    ['a_bucket', 'b']
    >>> sorted(metric_names('sum(up{job="w"}) offset 5m > 1e3 and c'))
    ['c', 'up']
    """
    text = _STRING.sub('""', concrete(expr))
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = _GROUPING.sub("", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def query(prom_url: str, expr: str, *, time: float | None = None, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Run an instant query (`expr` made concrete first) and return Prometheus' `data.result` list.

    Raises `RuntimeError` with Prometheus' error text when the query fails.
    """
    params: dict[str, Any] = {"query": concrete(expr)}
    if time is not None:
        params["time"] = time
    response = httpx.get(f"{prom_url.rstrip('/')}/api/v1/query", params=params, timeout=timeout)
    body = response.json()
    if response.status_code != 200 or body.get("status") != "success":
        raise RuntimeError(f"query {params['query']!r} failed: {body.get('errorType')}: {body.get('error')}")
    return body["data"]["result"]


def panels_without_data(prom_url: str, queries: Iterable[PanelQuery], *,
                        intervals: dict[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """`(dashboard, panel, concrete expr, why)` for each query that fails or returns only empty/NaN values.

    `intervals` should fit how long Prometheus has been scraping: `$__rate_interval` at least four scrape
    intervals, `$__range` no longer than the scraping has lasted.
    """
    missing = []
    for dashboard, title, expr in queries:
        text = concrete(expr, intervals=intervals)
        try:
            result = query(prom_url, text)
        except (RuntimeError, httpx.HTTPError) as exc:
            missing.append((dashboard, title, text, str(exc)))
            continue
        values = [item.get("value", [None, "NaN"])[1] for item in result]
        if not any(value not in ("NaN", None) for value in values):
            missing.append((dashboard, title, text, "no series" if not result else "only NaN"))
    return missing
