"""Run `pricewatch worker` as a child process: for the demo, the benchmark and the broker tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Mapping

from stream.services import die_with_parent

__all__ = ["WorkerProcess"]


class WorkerProcess:
    """One Faust worker in its own process group, with its log in a file.

    Parameters
    ----------
    broker
        `kafka://host:port`.
    env
        Extra `PW_*` settings (app id, partitions, Redis URL …).
    """

    def __init__(self, broker: str, *, env: Mapping[str, str] | None = None, log_path: str | Path | None = None,
                 web_port: int | None = None) -> None:
        self.broker = broker
        self.env = dict(env or {})
        self.web_port = web_port
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkstemp(prefix="pricewatch-worker-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        env = {**os.environ, "PW_BROKER": self.broker, **self.env}
        if self.web_port is not None:
            env["PW_WEB_PORT"] = str(self.web_port)
        env.setdefault("PW_DATA_DIR", tempfile.mkdtemp(prefix="pricewatch-data-"))
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stream", "worker", "--loglevel", "warning"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=die_with_parent,  # a killed test run or demo leaves no worker behind
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, with no chance to commit or flush."""
        if self.running:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        if not self.running:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_metrics(self, timeout: float = 60.0) -> bool:
        """True once /metrics answers (the worker's web server is up)."""
        import httpx

        if self.web_port is None:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running:
            try:
                if httpx.get(f"http://127.0.0.1:{self.web_port}/metrics", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return False
