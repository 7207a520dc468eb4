"""The managed services start for real, carry traffic, fail loudly and leave nothing behind."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream import services


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


class _Script(services.ManagedProcess):
    """A shell script as a service, ready when it has written `ready` to its log."""

    name = "script"

    def __init__(self, script: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.script = script

    def command(self):
        return ["bash", "-c", self.script]

    def is_ready(self) -> bool:
        return "ready" in self.log_tail()


class TestManagedProcess:
    def test_a_program_that_exits_raises_with_its_log_tail(self):
        service = _Script("echo 'bad config line 7' >&2; exit 3")
        with pytest.raises(services.ServiceStartError, match=r"(?s)status 3.*bad config line 7"):
            service.start()
        assert not service.running

    def test_a_program_that_never_answers_times_out_and_is_stopped(self):
        service = _Script("echo 'still warming up'; exec sleep 60", startup_timeout_s=1)
        with pytest.raises(services.ServiceStartError, match=r"(?s)not ready after 1 s.*still warming up"):
            service.start()
        assert not service.running

    def test_stop_ends_the_whole_process_group_and_removes_the_temp_dir(self):
        # the grandchild ignores SIGTERM: only the SIGKILL that follows the grace period ends it
        script = "bash -c 'trap \"\" TERM; echo $$ > grandchild.pid; exec sleep 60' & echo ready; wait"
        with _Script(script) as service:
            workdir = service.workdir
            pid_file = workdir / "grandchild.pid"
            while not pid_file.exists() or not pid_file.read_text().strip():
                time.sleep(0.05)
            grandchild = int(pid_file.read_text())
            assert _alive(grandchild)
            service.stop(grace_s=0.5)
        assert _wait_gone(grandchild), "a process of the service's group outlived stop()"
        assert not workdir.exists()
        service.stop()  # idempotent

    @pytest.mark.redis
    def test_a_killed_parent_leaves_no_orphan(self, tmp_path):
        starter = textwrap.dedent("""
            import sys, time
            from stream.services import RedisServer
            server = RedisServer().start()
            print(server.pid, server.workdir, flush=True)
            time.sleep(60)
        """)
        workdir = ""
        parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True,
                                  cwd=services.REPO_ROOT)
        try:
            child, workdir = parent.stdout.readline().split()
            child = int(child)
            assert _alive(child)
            parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only PR_SET_PDEATHSIG can help
            parent.wait(10)
            assert _wait_gone(child), "redis-server outlived the SIGKILLed process that started it"
        finally:
            parent.kill()
            shutil.rmtree(workdir, ignore_errors=True)  # nobody was left to remove it

    @pytest.mark.redis
    def test_a_port_taken_before_the_bind_is_chosen_again(self, monkeypatch):
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            taken = squatter.getsockname()[1]
            ports = iter([taken])
            real_free_port = services.free_port
            monkeypatch.setattr(services, "free_port", lambda: next(ports, None) or real_free_port())
            with services.RedisServer() as server:
                assert server.port != taken
                assert redis.Redis.from_url(server.url).ping()

    @pytest.mark.redis
    def test_a_taken_port_the_caller_fixed_is_an_error(self):
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            with pytest.raises(services.ServiceStartError, match="(?i)address already in use"):
                services.RedisServer(port=squatter.getsockname()[1]).start()

    def test_a_missing_program_names_the_setup_script(self):
        with pytest.raises(services.ServiceNotInstalledError, match="scripts/setup.sh"):
            services.find_program("no-such-program-pricewatch")

    def test_an_explicit_program_path_must_be_executable(self, monkeypatch, tmp_path):
        monkeypatch.setenv("PW_REDIS_SERVER", str(tmp_path / "redis-server"))
        with pytest.raises(services.ServiceNotInstalledError, match="PW_REDIS_SERVER"):
            services.RedisServer()


class TestKafkaBroker:
    def test_round_trip_with_a_consumer_group(self, kafka_broker, unique_name):
        topic, group = unique_name("roundtrip"), unique_name("group")
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
        for i in range(5):
            producer.send(topic, key=b"P1", value=json.dumps({"i": i, "药": "银杏叶片"}).encode())
        producer.flush(30)
        producer.close()
        consumer = KafkaConsumer(topic, bootstrap_servers=kafka_broker.bootstrap, group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        received = []
        deadline = time.monotonic() + 60
        while len(received) < 5 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                received.extend(json.loads(m.value) for m in batch)
        consumer.commit()
        committed = consumer.committed(TopicPartition(topic, 0))
        consumer.close()
        assert [r["i"] for r in received] == [0, 1, 2, 3, 4]
        assert received[0]["药"] == "银杏叶片"
        assert committed == 5

    def test_aiokafka_as_faust_uses_it(self, kafka_broker, unique_name):
        # Kafka 4 dropped old protocol versions (KIP-896); Faust's client must still speak to it.
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        topic = unique_name("aiokafka")

        async def round_trip() -> list[bytes]:
            producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"one", key=b"P1")
                await producer.send_and_wait(topic, b"two", key=b"P1")
            finally:
                await producer.stop()
            consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_broker.bootstrap,
                                        group_id=unique_name("aiogroup"), auto_offset_reset="earliest")
            await consumer.start()
            try:
                return [(await asyncio.wait_for(consumer.getone(), 60)).value for _ in range(2)]
            finally:
                await consumer.stop()

        assert asyncio.run(round_trip()) == [b"one", b"two"]

    def test_addresses(self, kafka_broker):
        assert kafka_broker.bootstrap == f"127.0.0.1:{kafka_broker.port}"
        assert kafka_broker.url == f"kafka://{kafka_broker.bootstrap}"
        assert kafka_broker.running and services.port_open("127.0.0.1", kafka_broker.port)

    @pytest.mark.slow
    @pytest.mark.kafka
    def test_a_restart_in_the_same_workdir_keeps_the_data(self, tmp_path, unique_name):
        topic = unique_name("durable")
        broker = services.KafkaBroker(workdir=tmp_path / "kafka")
        with broker:
            producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
            producer.send(topic, b"kept").get(30)
            producer.close()
        with broker:  # same ports, same log dir: no new format
            consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest")
            consumer.assign([TopicPartition(topic, 0)])
            values = []
            deadline = time.monotonic() + 60
            while not values and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    values.extend(m.value for m in batch)
            consumer.close()
        assert values == [b"kept"]

    def test_jars_are_cached_with_a_completion_marker(self, kafka_broker):
        libs = services.ensure_kafka_libs()
        assert (libs / ".complete").read_text().strip() == services.KAFKA_VERSION
        assert (libs / f"kafka_2.13-{services.KAFKA_VERSION}.jar").is_file()


class TestTansuBroker:
    def test_accepts_a_produce_and_serves_it_back(self, tansu_broker, unique_name):
        topic = unique_name("tansu")
        producer = KafkaProducer(bootstrap_servers=tansu_broker.bootstrap)
        sent = producer.send(topic, key=b"P1", value=b'{"price": 12.5}').get(30)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=tansu_broker.bootstrap, auto_offset_reset="earliest")
        consumer.assign([TopicPartition(topic, sent.partition)])  # no group: Tansu joins groups slowly
        values = []
        deadline = time.monotonic() + 30
        while not values and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                values.extend(m.value for m in batch)
        consumer.close()
        assert values == [b'{"price": 12.5}']


class TestRedisServer:
    def test_ping_and_a_capped_stream(self, redis_server, unique_name):
        client = redis.Redis.from_url(redis_server.url)
        assert client.ping()
        stream = unique_name("alerts")
        for i in range(5):
            client.xadd(stream, {"alert": json.dumps({"i": i})}, maxlen=3, approximate=False)
        entries = client.xrange(stream)
        assert [json.loads(fields[b"alert"])["i"] for _id, fields in entries] == [2, 3, 4]

    @pytest.mark.redis
    def test_stopping_loses_the_data(self, tmp_path):
        with services.RedisServer() as server:
            redis.Redis.from_url(server.url).set("k", "v")
            port = server.port
        assert not services.port_open("127.0.0.1", port)


class TestPrometheusServer:
    def test_ready_and_queryable(self, prometheus_factory, tmp_path):
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n"
                          "    static_configs:\n      - targets: ['127.0.0.1:1']\n")
        server = prometheus_factory(config)
        import httpx

        answer = httpx.get(f"{server.url}/api/v1/query", params={"query": "vector(42)"}, timeout=10).json()
        assert answer["status"] == "success"
        assert answer["data"]["result"][0]["value"][1] == "42"

    @pytest.mark.prometheus
    def test_a_broken_config_fails_with_prometheus_own_words(self, tmp_path):
        config = tmp_path / "prometheus.yml"
        config.write_text("scrape_configs:\n  - job_name: [not, a, name]\n")
        with pytest.raises(services.ServiceStartError, match=r"(?s)exited with status.*prometheus.yml"):
            services.PrometheusServer(config).start()
