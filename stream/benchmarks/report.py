"""What `pricewatch bench` prints: one flat summary (the `--json` object) and a table a person reads.

The summary's first keys are the headline figures; `targets` says for each target whether it
was met, or `None` when the run was too small to judge it (a `--quick` run, fewer products in
state than the target speaks of); `details` keeps every measurement as it was taken.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from typing import Any, Callable, Final

__all__ = ["Target", "TARGETS", "summarise", "format_report", "machine_info"]


@dataclass(frozen=True)
class Target:
    """A figure the issue asks for, and the condition under which the run can judge it."""

    key: str
    label: str
    limit: float
    better: str  # ">=" or "<"
    judged_if: Callable[[dict[str, Any]], bool]
    condition: str

    def met(self, value: float) -> bool:
        return value >= self.limit if self.better == ">=" else value < self.limit


TARGET_PRODUCTS: Final = 100_000
TARGET_RATE: Final = 1_000.0
TARGETS: Final = (
    Target("ratio", "pipeline / bare", 0.5, ">=", lambda s: True, ""),
    Target("latency_p99_ms", "latency p99", 100.0, "<",
           lambda s: s["latency_rate_offered"] >= 0.95 * TARGET_RATE, f"offered load {TARGET_RATE:,.0f} ev/s"),
    Target("worker_peak_rss_mb", "worker peak RSS", 500.0, "<",
           lambda s: s["products_in_state"] >= TARGET_PRODUCTS, f"{TARGET_PRODUCTS:,} products in state"),
)


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory and load, for the record next to the figures."""
    import psutil

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version()}


def summarise(*, stream: dict[str, Any] | None = None, extract: dict[str, Any] | None = None,
              detect: dict[str, Any] | None = None, broker: str = "", machine: dict[str, Any] | None = None,
              ) -> dict[str, Any]:
    """The flat `--json` object from the measurements that were run (any may be missing).

    >>> s = summarise(detect={"us_per_event": 40.0, "events_per_s": 25000, "n_events": 10})
    >>> s["detect_us_per_event"], s["targets"]
    (40.0, [])
    """
    summary: dict[str, Any] = {}
    if stream is not None:
        bare, piped = stream["bare"]["events_per_s"], stream["throughput"]["events_per_s"]
        latency = stream["latency"]
        summary.update({
            "bare_events_per_s": bare,
            "pipeline_events_per_s": piped,
            "ratio": round(piped / bare, 3) if bare else None,
            "latency_p50_ms": latency["p50_ms"],
            "latency_p99_ms": latency["p99_ms"],
            "latency_max_ms": latency["max_ms"],
            "latency_rate_offered": latency["rate_offered"],
            "latency_saturated": piped < latency["rate_offered"],
            **_within_capacity(stream.get("latency_within_capacity")),
            "worker_peak_rss_mb": stream["peak_rss_mb"],
            "worker_rss_with_state_mb": stream["preload"]["rss_mb"],
            "products_in_state": stream["preload"]["listings"],
            "preload_listings_per_s": stream["preload"]["events_per_s"],
        })
        bare_cpu, piped_cpu = stream["bare"].get("cpu_us_per_event"), stream["throughput"].get("cpu_us_per_event")
        if bare_cpu and piped_cpu:  # CPU time per event: the figure the neighbours' load moves least
            summary.update({"bare_cpu_us_per_event": bare_cpu, "pipeline_cpu_us_per_event": piped_cpu,
                            "cpu_ratio": round(bare_cpu / piped_cpu, 3)})
    if extract is not None:
        summary["extract_us_per_event"] = extract["cold_us_per_insert"]
        summary["extract_warm_us_per_event"] = extract["warm_us_per_insert"]
    if detect is not None:
        summary["detect_us_per_event"] = detect["us_per_event"]
    summary["targets"] = [
        {"key": t.key, "label": t.label, "value": summary[t.key], "target": f"{t.better} {t.limit:g}",
         "met": t.met(summary[t.key]) if t.judged_if(summary) else None,
         "condition": t.condition}
        for t in TARGETS if summary.get(t.key) is not None
    ]
    summary["broker"] = broker
    summary["machine"] = machine or machine_info()
    summary["details"] = {k: v for k, v in (("stream", stream), ("extract", extract), ("detect", detect)) if v}
    return summary


def _within_capacity(latency: dict[str, Any] | None) -> dict[str, Any]:
    if latency is None:
        return {}
    return {"latency_within_capacity_rate": latency["rate_offered"],
            "latency_within_capacity_p50_ms": latency["p50_ms"], "latency_within_capacity_p99_ms": latency["p99_ms"]}


_ROWS: Final = (  # (key, label, unit, format)
    ("bare_events_per_s", "bare Faust passthrough", "ev/s", "{:,.0f}"),
    ("pipeline_events_per_s", "full pipeline, price changes (rule path)", "ev/s", "{:,.0f}"),
    ("ratio", "pipeline / bare", "", "{:.2f}"),
    ("bare_cpu_us_per_event", "bare passthrough, CPU time per event", "µs", "{:,.0f}"),
    ("pipeline_cpu_us_per_event", "full pipeline, CPU time per event", "µs", "{:,.0f}"),
    ("cpu_ratio", "  bare CPU / pipeline CPU", "", "{:.2f}"),
    ("latency_p50_ms", "end-to-end latency p50", "ms", "{:.1f}"),
    ("latency_p99_ms", "end-to-end latency p99", "ms", "{:.1f}"),
    ("latency_max_ms", "end-to-end latency max", "ms", "{:.1f}"),
    ("latency_rate_offered", "  at an offered load of", "ev/s", "{:,.0f}"),
    ("latency_within_capacity_p50_ms", "latency p50 within capacity", "ms", "{:.1f}"),
    ("latency_within_capacity_p99_ms", "latency p99 within capacity", "ms", "{:.1f}"),
    ("latency_within_capacity_rate", "  at half the pipeline's rate", "ev/s", "{:,.0f}"),
    ("preload_listings_per_s", "listings (extraction + state), preload", "ev/s", "{:,.0f}"),
    ("worker_rss_with_state_mb", "worker RSS after the preload", "MB", "{:,.0f}"),
    ("products_in_state", "  products in state", "", "{:,}"),
    ("worker_peak_rss_mb", "worker peak RSS (whole run)", "MB", "{:,.0f}"),
    ("extract_us_per_event", "extraction only, cold (per insert)", "µs", "{:.1f}"),
    ("extract_warm_us_per_event", "extraction only, warm cache", "µs", "{:.2f}"),
    ("detect_us_per_event", "detectors only (all six, per event)", "µs", "{:.1f}"),
)


def format_report(summary: dict[str, Any]) -> str:
    """The table: every figure measured, then each target with ok / FAIL / n/a.

    >>> print(format_report(summarise(detect={"us_per_event": 40.0}, machine={"cpu": "x", "cores": 2,
    ...     "memory_gib": 1.0, "load_avg_1m": 0.5, "python": "3.11"})))
    pricewatch bench
    machine: x, 2 cores, 1.0 GiB, load 0.50 at the start
    <BLANKLINE>
      detectors only (all six, per event)             40.0 µs
    """
    machine = summary["machine"]
    lines = ["pricewatch bench" + (f" on {summary['broker']}" if summary.get("broker") else ""),
             f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
             f"load {machine['load_avg_1m']:.2f} at the start", ""]
    for key, label, unit, fmt in _ROWS:
        if summary.get(key) is not None:
            lines.append(f"  {label:42s} {fmt.format(summary[key]):>9s} {unit}".rstrip())
    if summary.get("latency_saturated"):
        lines.append("  (the worker is slower than the offered load: that latency is mostly queueing)")
    if summary["targets"]:
        lines += ["", "targets:"]
        for target in summary["targets"]:
            mark = {True: "ok", False: "FAIL", None: "n/a"}[target["met"]]
            why = f"  (judged only with {target['condition']})" if target["met"] is None else ""
            lines.append(f"  {mark:4s} {target['label']:20s} {target['value']:>9} {target['target']}{why}")
    return "\n".join(lines)
