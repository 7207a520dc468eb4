"""`pricewatch demo` as a user runs it: zero setup, alerts printed, a summary, a clean exit."""
from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.slow


def _orphans_since(started: float) -> set[str]:
    """Broker, redis or worker processes started since `started` whose parent is gone."""
    found = set()
    for proc in psutil.process_iter(["pid", "ppid", "name", "cmdline", "create_time"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        ours = "tansu" in cmdline or "redis-server" in (proc.info["name"] or "") or "stream worker" in cmdline
        if ours and proc.info["create_time"] >= started and proc.info["ppid"] == 1:
            found.add(f"{proc.info['pid']}: {cmdline[:80]}")
    return found


def test_demo_runs_the_feed_end_to_end_and_leaves_nothing_behind():
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "stream", "demo", "--seed", "3"], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = done.stdout[done.stdout.index("== pricewatch demo"):]
    assert "dead-lettered 0" in summary
    alert_lines = [line for line in done.stdout.splitlines() if line[:3].strip() in {"!!!", "!!", "!", "."}]
    assert len(alert_lines) >= 20, done.stdout[-2000:]
    assert any("price_jump" in line for line in alert_lines) and any("peer_outlier" in line for line in alert_lines)
    time.sleep(1)
    left = _orphans_since(started)
    assert not left, f"the demo left processes behind: {left}"
