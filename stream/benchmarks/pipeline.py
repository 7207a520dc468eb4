"""The stream benchmark: a real worker on a real broker, against a bare Faust passthrough.

On one broker, in one run:

1. **bare** — `stream.benchmarks.passthrough_app` (same partitions, batching and commit
   settings as the worker) copies `events` price-change messages from one topic to another;
2. **preload** — `products` listings are produced first, then a pricewatch worker (rule path)
   starts and drains them: the products table then holds `products` products, and the worker's
   resident memory is read with psutil over its process tree;
3. **pipeline** — the same `events` price-change messages as in (1), sent as fast as the
   producer can, through the whole pipeline (product stage, `drug.enriched`, the re-keyed
   group stage and its detectors);
4. **latency** — price changes of those products are offered at a fixed rate (1,000 ev/s) and
   each one's time from `send()` to its arrival at a consumer of `drug.enriched` is kept. When
   (3) found the worker slower than that rate, the figure is mostly queueing, so latency is
   also measured at half the rate (3) found (`latency_within_capacity`).

Throughput is counted from the first output record's timestamp to the last (both written by
the worker's own producer), so start-up and consumer-group joins are not in it; the pipeline's
end is when its group stage has taken the last event (read from the worker's
`pricewatch_events_in_total`). Peak RSS is sampled every 0.2 s for the worker's whole life.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Final, Iterator, Sequence

from stream.records import LISTINGS_TOPIC, PRICE_CHANGES_TOPIC
from stream.workerproc import WorkerProcess

__all__ = [
    "BenchSizes", "bench_broker", "run_stream_benchmark", "PassthroughProcess", "RssSampler",
    "bench_listings", "bench_price_changes", "percentile",
]

ENRICHED_TOPIC: Final = "drug.enriched"
CONTRACT_TOPICS: Final = (LISTINGS_TOPIC, PRICE_CHANGES_TOPIC, ENRICHED_TOPIC, "price.alerts", "drug.deadletter")
JUMP_EVERY: Final = 25  # one price change in 25 doubles the price: the detectors' alert path runs too
Message = tuple[bytes, bytes]  # (key, value)


@dataclass(frozen=True)
class BenchSizes:
    """How much the stream benchmark sends.

    Parameters
    ----------
    events
        Price changes in each throughput run (bare and pipeline).
    products
        Listings preloaded: products in the worker's state while RSS and latency are measured.
    latency_rate
        Offered load of the latency run, events per second.
    latency_s
        Length of the latency run, seconds.
    partitions
        Partitions of every topic (the worker's `PW_PARTITIONS`).
    """

    events: int = 20_000
    products: int = 100_000
    latency_rate: float = 1_000.0
    latency_s: float = 20.0
    partitions: int = 4

    def __post_init__(self) -> None:
        for name in ("events", "products", "latency_rate", "latency_s", "partitions"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    @classmethod
    def quick(cls) -> BenchSizes:
        """Small sizes for a smoke test: a few seconds of each measurement."""
        return cls(events=2_000, products=2_000, latency_s=3.0, partitions=2)


# --- brokers ---------------------------------------------------------------------------------

@contextlib.contextmanager
def bench_broker(choice: str) -> Iterator[tuple[str, str]]:
    """`(bootstrap, description)` of the broker to measure on; one we start is stopped afterwards.

    `choice` is `kafka` (Apache Kafka from the Maven jars), `tansu`, or `kafka://HOST:PORT`.
    """
    from stream import services

    if choice.startswith("kafka://"):
        yield choice.removeprefix("kafka://"), f"external broker {choice}"
        return
    if choice not in ("kafka", "tansu"):
        raise ValueError(f"--broker must be kafka, tansu or kafka://HOST:PORT, got {choice!r}")
    broker = services.KafkaBroker(heap="1g") if choice == "kafka" else services.TansuBroker()
    _say(f"starting {type(broker).__name__} …")
    broker.start()
    try:
        name = f"Apache Kafka {broker.version} (KRaft, 1 node)" if choice == "kafka" else "Tansu (memory)"
        yield broker.bootstrap, name
    finally:
        broker.stop()


@contextlib.contextmanager
def _redis_url() -> Iterator[str]:
    """A redis-server of our own for the worker's alert sink, or "" (sink off) when none is installed."""
    from stream import services

    try:
        server = services.RedisServer().start()
    except services.ServiceStartError as exc:
        _say(f"no redis-server ({exc.__class__.__name__}): the worker runs without its Redis alert sink")
        yield ""
        return
    try:
        yield server.url
    finally:
        server.stop()


# --- the messages ----------------------------------------------------------------------------

def bench_listings(n_products: int, run: str, seed: int = 0) -> list[Message]:
    """`n_products` listings of distinct products, cloned from the simulator's realistic ones.

    Each clone of the simulated catalogue gets its own product ids and its own 通用名 suffix, so
    peer groups keep the simulator's sizes (a few products each) however many products there are.

    >>> listings = bench_listings(3, "r1")
    >>> len(listings), json.loads(listings[0][1])["product_id"].startswith("r1c0-")
    (3, True)
    """
    from stream.simulator import simulate

    templates: dict[str, dict[str, Any]] = {}
    for item in simulate(seed).events:
        if item["topic"] == LISTINGS_TOPIC:
            templates.setdefault(item["value"]["product_id"], item["value"])
    catalogue = list(templates.values())
    messages = []
    for i in range(n_products):
        clone, template = divmod(i, len(catalogue))
        value = dict(catalogue[template])
        value["product_id"] = f"{run}c{clone}-{value['product_id']}"
        value["event_id"] = f"{run}-L{i}"
        value["generic_name"] = f"{value['generic_name']}·{clone}" if clone else value["generic_name"]
        messages.append((value["product_id"].encode(), _dump(value)))
    return messages


def bench_price_changes(listings: Sequence[Message], n_events: int, tag: str, seed: int = 1) -> list[Message]:
    """`n_events` price changes of listed products: small moves, every `JUMP_EVERY`-th a doubling.

    >>> listings = bench_listings(5, "r1")
    >>> changes = bench_price_changes(listings, 4, "t")
    >>> [json.loads(v)["event_id"] for _, v in changes]
    ['t-0', 't-1', 't-2', 't-3']
    """
    rng = random.Random(seed)
    products = [json.loads(value) for _, value in listings]
    prices = {p["product_id"]: p["price"] for p in products}
    messages = []
    for j in range(n_events):
        product = products[rng.randrange(len(products))]
        pid = product["product_id"]
        factor = 2.0 if j % JUMP_EVERY == JUMP_EVERY - 1 else rng.uniform(0.97, 1.03)
        prices[pid] = round(max(0.01, prices[pid] * factor), 2)
        value = {"event_id": f"{tag}-{j}", "ts": product["ts"], "product_id": pid, "region": product["region"],
                 "new_price": prices[pid]}
        messages.append((pid.encode(), _dump(value)))
    return messages


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# --- Kafka plumbing ----------------------------------------------------------------------------

def _producer(bootstrap: str, **options: Any) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)


def _produce(bootstrap: str, topic: str, messages: Sequence[Message], what: str) -> None:
    """Send as fast as kafka-python can (batched), with a progress bar."""
    from tqdm import tqdm

    producer = _producer(bootstrap, linger_ms=20, batch_size=256 * 1024)
    try:
        for key, value in tqdm(messages, desc=what, unit="ev", file=sys.stderr, leave=False, mininterval=0.5):
            producer.send(topic, key=key, value=value)
        producer.flush(120)
    finally:
        producer.close()


class _Offsets:
    """End offsets of a topic's partitions, and the first and last record timestamps in a range."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.topic = topic
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                      consumer_timeout_ms=1000)
        deadline = time.monotonic() + 60
        while not (partitions := self.consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {topic} has no partitions after 60 s")
            time.sleep(0.2)
        self.partitions = [TopicPartition(topic, p) for p in sorted(partitions)]

    def ends(self) -> dict[Any, int]:
        return dict(self.consumer.end_offsets(self.partitions))

    def total(self) -> int:
        return sum(self.ends().values())

    def span(self, starts: dict[Any, int], ends: dict[Any, int]) -> tuple[float, float]:
        """(first, last) record timestamp, in seconds, of the records from `starts` to `ends`."""
        first, last = [], []
        for tp in self.partitions:
            if ends[tp] > starts[tp]:
                first.append(self._timestamp(tp, starts[tp]))
                last.append(self._timestamp(tp, ends[tp] - 1))
        if not first:
            raise RuntimeError(f"no new records on {self.topic}")
        return min(first), max(last)

    def _timestamp(self, tp: Any, offset: int) -> float:
        self.consumer.assign([tp])
        self.consumer.seek(tp, offset)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=500, max_records=1).values():
                return records[0].timestamp / 1000.0
        raise RuntimeError(f"could not read {tp.topic}[{tp.partition}]@{offset}")

    def close(self) -> None:
        self.consumer.close()


class _ReadCount:
    """`_Offsets` for brokers whose end offsets are not record counts (Tansu): reads the topic to count.

    Counting starts at the topic's end when it is made; `ends()` is a mark, not real offsets.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.timestamps: list[float] = []
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(bootstrap,), name=f"count-{topic}", daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError(f"could not start reading {topic}")

    def _read(self, bootstrap: str) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        while not (partitions := consumer.partitions_for_topic(self.topic)):
            time.sleep(0.2)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_end()
        for tp in tps:
            consumer.position(tp)
        self._ready.set()
        while not self._stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                self.timestamps.extend(r.timestamp / 1000.0 for r in records)
        consumer.close()

    def ends(self) -> dict[str, int]:
        return {"read": len(self.timestamps)}

    def total(self) -> int:
        return len(self.timestamps)

    @property
    def partitions(self) -> list[Any]:
        raise NotImplementedError("a read count has no partition list")

    def span(self, starts: dict[str, int], ends: dict[str, int]) -> tuple[float, float]:
        seen = self.timestamps[starts["read"]:ends["read"]]
        if not seen:
            raise RuntimeError(f"no new records on {self.topic}")
        return min(seen), max(seen)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _counter(bootstrap: str, topic: str, broker: str) -> _Offsets | _ReadCount:
    return _ReadCount(bootstrap, topic) if broker == "tansu" else _Offsets(bootstrap, topic)


def _wait(done: Callable[[], int], total: int, *, what: str, timeout_s: float,
          alive: Callable[[], bool] = lambda: True, on_fail: Callable[[], str] = str) -> float:
    """Poll `done()` (a count) until it reaches `total`, with a progress bar; the time it did, `time.time()`."""
    from tqdm import tqdm

    deadline = time.monotonic() + timeout_s
    with tqdm(total=total, desc=what, unit="ev", file=sys.stderr, leave=False, mininterval=0.5) as bar:
        while True:
            count = done()
            bar.update(min(count, total) - bar.n)
            if count >= total:
                return time.time()
            if not alive():
                raise RuntimeError(f"the worker died while waiting for {what}\n{on_fail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what} ({count}/{total})\n"
                                   f"{on_fail()}")
            time.sleep(0.1)


# --- processes -------------------------------------------------------------------------------

class PassthroughProcess(WorkerProcess):
    """`stream.benchmarks.passthrough_app` as a child process, managed like a pricewatch worker."""

    def start(self) -> PassthroughProcess:
        env = {**os.environ, "PW_BROKER": self.broker, **self.env}
        env.setdefault("PW_DATA_DIR", tempfile.mkdtemp(prefix="pricewatch-passthrough-"))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "stream.benchmarks.passthrough_app", "worker", "--loglevel", "warn"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        return self


class RssSampler:
    """Samples the resident memory of a process and its children in a thread; keeps the peak.

    >>> with RssSampler(os.getpid()) as rss:
    ...     time.sleep(0.05)
    >>> rss.peak_bytes > 0
    True
    """

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.last_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> int:
        import psutil

        try:
            root = psutil.Process(self.pid)
            rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            return self.last_bytes
        self.last_bytes = rss
        self.peak_bytes = max(self.peak_bytes, rss)
        return rss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children.

    Per event, it is the figure least moved by the neighbours' load: a worker starved of CPU
    takes longer, but spends about the same CPU time on each event.

    >>> cpu_seconds(os.getpid()) > 0
    True
    """
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0.0


def _cpu_us(cpu_before: float, pid: int, events: int) -> float:
    return round(1e6 * (cpu_seconds(pid) - cpu_before) / max(events, 1), 1)


def _metric(port: int, name: str, labels: dict[str, str]) -> float:
    """One sample of the worker's /metrics (0 when absent or unreachable)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# --- measurements ------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0–100) by linear interpolation between closest ranks.

    >>> percentile([10, 20, 30, 40], 50), percentile([1.0], 99)
    (25.0, 1.0)
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _bare_throughput(bootstrap: str, messages: Sequence[Message], sizes: BenchSizes, run: str,
                     workdir: Path, broker: str) -> dict[str, Any]:
    from stream.admin import ensure_topics

    source, sink = f"bench-{run}-in", f"bench-{run}-out"
    ensure_topics(bootstrap, (source, sink), partitions=sizes.partitions)
    passthrough = PassthroughProcess(
        f"kafka://{bootstrap}", log_path=workdir / "passthrough.log",
        env={"PW_APP_ID": f"bench-{run}", "PW_PARTITIONS": str(sizes.partitions),
             "PW_BENCH_SOURCE": source, "PW_BENCH_SINK": sink})
    out = _counter(bootstrap, sink, broker)
    try:
        with passthrough:
            warmup = messages[: min(len(messages), 500)]
            _produce(bootstrap, source, warmup, "bare: warm-up")
            _wait(out.total, len(warmup), what="bare: warm-up copied", timeout_s=180,
                  alive=lambda: passthrough.running, on_fail=passthrough.log_tail)
            starts = out.ends()
            cpu = cpu_seconds(passthrough.proc.pid)
            _produce(bootstrap, source, messages, "bare: sending")
            _wait(lambda: out.total() - sum(starts.values()), len(messages), what="bare: copied", timeout_s=600,
                  alive=lambda: passthrough.running, on_fail=passthrough.log_tail)
            cpu_us = _cpu_us(cpu, passthrough.proc.pid, len(messages))
            first, last = out.span(starts, out.ends())
    finally:
        out.close()
    return {"events": len(messages), "seconds": round(last - first, 3),
            "events_per_s": round(len(messages) / max(last - first, 1e-3), 1), "cpu_us_per_event": cpu_us}


class _PipelineRun:
    """One pricewatch worker through the preload, latency and throughput phases."""

    def __init__(self, bootstrap: str, sizes: BenchSizes, run: str, workdir: Path, redis_url: str,
                 broker: str) -> None:
        from stream.services import free_port

        self.bootstrap = bootstrap
        self.sizes = sizes
        self.app_id = f"bench-{run}"
        self.web_port = free_port()
        self.worker = WorkerProcess(
            f"kafka://{bootstrap}", log_path=workdir / "worker.log", web_port=self.web_port,
            env={"PW_APP_ID": self.app_id, "PW_PARTITIONS": str(sizes.partitions), "PW_REDIS_URL": redis_url,
                 "PW_WEB_ENABLED": "true", "PW_EXTRACTION": "rules"})
        self.enriched = _counter(bootstrap, ENRICHED_TOPIC, broker)
        self._groups_before = 0

    def group_events_taken(self) -> int:
        """Events the group stage has taken so far (the worker's own counter)."""
        return int(_metric(self.web_port, "pricewatch_events_in_total", {"topic": f"{self.app_id}-group-events"}))

    def wait_all(self, n_since: int, enriched_before: int, what: str, timeout_s: float) -> float:
        """Until `drug.enriched` has `n_since` more records and the group stage took as many; its time."""
        kw = dict(alive=lambda: self.worker.running, on_fail=self.worker.log_tail)
        _wait(lambda: self.enriched.total() - enriched_before, n_since, what=f"{what}: enriched",
              timeout_s=timeout_s, **kw)
        groups_before = self._groups_before
        done = _wait(lambda: self.group_events_taken() - groups_before, n_since, what=f"{what}: group stage",
                     timeout_s=timeout_s, **kw)
        self._groups_before += n_since
        return done

    def run(self, listings: Sequence[Message], changes: Sequence[Message]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        before = self.enriched.ends()
        _produce(self.bootstrap, LISTINGS_TOPIC, listings, "pipeline: listings")
        with self.worker, RssSampler(self.worker.proc.pid) as rss:
            if not self.worker.wait_for_metrics(180):
                raise RuntimeError(f"the worker's /metrics never answered\n{self.worker.log_tail()}")
            end = self.wait_all(len(listings), sum(before.values()), "preload", timeout_s=60 + len(listings) / 50)
            first, _ = self.enriched.span(before, self.enriched.ends())
            time.sleep(1.0)  # let the changelog writes and the commit settle before reading memory
            result["preload"] = {"listings": len(listings), "seconds": round(end - first, 3),
                                 "events_per_s": round(len(listings) / max(end - first, 1e-3), 1),
                                 "rss_mb": round(rss.sample() / 2**20, 1)}
            before = self.enriched.ends()
            cpu = cpu_seconds(self.worker.proc.pid)
            _produce(self.bootstrap, PRICE_CHANGES_TOPIC, changes, "pipeline: price changes")
            end = self.wait_all(len(changes), sum(before.values()), "pipeline", timeout_s=60 + len(changes) / 50)
            cpu_us = _cpu_us(cpu, self.worker.proc.pid, len(changes))
            first, last = self.enriched.span(before, self.enriched.ends())
            seconds = max(end, last) - first
            sustained = len(changes) / max(seconds, 1e-3)
            result["throughput"] = {"events": len(changes), "seconds": round(seconds, 3),
                                    "events_per_s": round(sustained, 1), "cpu_us_per_event": cpu_us}
            result["latency"] = self._latency(listings, self.sizes.latency_rate, "Q", seed=2)
            if sustained < self.sizes.latency_rate:  # that latency was queueing: measure it at a load the worker holds
                result["latency_within_capacity"] = self._latency(listings, round(sustained / 2, 1), "H", seed=3)
            result["peak_rss_mb"] = round(rss.peak_bytes / 2**20, 1)
        self.enriched.close()
        return result

    def _latency(self, listings: Sequence[Message], rate: float, tag: str, seed: int) -> dict[str, Any]:
        """Price changes offered at `rate` for `latency_s`; time of each from `send()` to a `drug.enriched` reader."""
        from kafka import KafkaConsumer, TopicPartition
        from tqdm import tqdm

        changes = bench_price_changes(listings, max(10, round(rate * self.sizes.latency_s)), f"{self.app_id}-{tag}",
                                      seed=seed)
        # Start from an idle worker: a group stage still draining a backlog slows the product stage too.
        _wait(self.group_events_taken, self._groups_before, what="group stage catching up", timeout_s=900,
              alive=lambda: self.worker.running, on_fail=self.worker.log_tail)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                                 fetch_max_wait_ms=100)
        partitions = [TopicPartition(ENRICHED_TOPIC, p)
                      for p in sorted(consumer.partitions_for_topic(ENRICHED_TOPIC))]
        consumer.assign(partitions)
        consumer.seek_to_end()
        for tp in partitions:
            consumer.position(tp)  # resolve the end offsets now, before anything is sent
        sent: dict[str, float] = {}
        latencies: list[float] = []
        pacing = threading.Thread(target=self._offer, args=(changes, sent, rate), name="paced-producer", daemon=True)
        # A worker slower than the offered rate drains a backlog afterwards: wait for that too.
        deadline = time.monotonic() + len(changes) / rate + 60 + len(changes) / 50
        pacing.start()
        with tqdm(total=len(changes), desc=f"latency at {rate:.0f} ev/s", unit="ev",
                  file=sys.stderr, leave=False, mininterval=0.5) as bar:
            while len(latencies) < len(changes) and time.monotonic() < deadline and self.worker.running:
                for records in consumer.poll(timeout_ms=100).values():
                    arrived = time.time()
                    for record in records:
                        event_id = json.loads(record.value).get("event_id")
                        if event_id in sent:
                            latencies.append(arrived - sent[event_id])
                            bar.update(1)
        pacing.join(10)
        consumer.close()
        self._groups_before += len(changes)  # the group stage takes them too
        if not latencies:
            raise RuntimeError(f"no price change reached {ENRICHED_TOPIC}\n{self.worker.log_tail()}")
        offered = (len(sent) - 1) / max(self._last_send - self._first_send, 1e-3)
        ms = [1000 * x for x in latencies]
        return {"rate_target": rate, "rate_offered": round(offered, 1), "sent": len(sent),
                "received": len(latencies), "p50_ms": round(percentile(ms, 50), 2),
                "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2)}

    def _offer(self, changes: Sequence[Message], sent: dict[str, float], rate: float) -> None:
        producer = _producer(self.bootstrap, linger_ms=0)
        interval = 1.0 / rate
        start = time.monotonic()
        self._first_send = self._last_send = time.monotonic()
        for i, (key, value) in enumerate(changes):
            pause = start + i * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[json.loads(value)["event_id"]] = time.time()
            producer.send(PRICE_CHANGES_TOPIC, key=key, value=value)
            self._last_send = time.monotonic()
        producer.flush(60)
        producer.close()


def _check_empty_inputs(bootstrap: str) -> None:
    """A fresh consumer group reads input topics from the start: old events would pollute the figures."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        topics = consumer.topics()
        for topic in (LISTINGS_TOPIC, PRICE_CHANGES_TOPIC):
            if topic in topics:
                parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
                if sum(consumer.end_offsets(parts).values()) > 0:
                    raise RuntimeError(
                        f"{topic} on {bootstrap} already holds events, which the benchmark's new consumer group "
                        "would re-read; run it on an empty broker (the default starts one)")
    finally:
        consumer.close()


def run_stream_benchmark(bootstrap: str, sizes: BenchSizes = BenchSizes(), *, redis_url: str | None = None,
                         workdir: str | Path | None = None, broker: str = "kafka") -> dict[str, Any]:
    """The broker measurements: bare and pipeline throughput, latency at a fixed rate, worker RSS.

    `redis_url` None starts a redis-server for the worker's alert sink (or runs without, if none
    is installed); "" runs without. Logs of the worker and the passthrough go to `workdir`.
    `broker` "tansu" counts outputs by reading them: Tansu's end offsets are not record counts.
    """
    from stream.admin import ensure_topics

    _check_empty_inputs(bootstrap)
    run = uuid.uuid4().hex[:6]
    workdir = Path(workdir or tempfile.mkdtemp(prefix="pricewatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_topics(bootstrap, CONTRACT_TOPICS, partitions=sizes.partitions)
    listings = bench_listings(sizes.products, run)
    changes = bench_price_changes(listings, sizes.events, f"{run}-T")
    _say(f"bare passthrough: {len(changes)} events")
    bare = _bare_throughput(bootstrap, changes, sizes, run, workdir, broker)
    with contextlib.ExitStack() as stack:
        if redis_url is None:
            redis_url = stack.enter_context(_redis_url())
        _say(f"pipeline: {len(listings)} listings, {len(changes)} price changes, then price changes at "
             f"{sizes.latency_rate:,.0f} ev/s for {sizes.latency_s:g} s (logs in {workdir})")
        piped = _PipelineRun(bootstrap, sizes, run, workdir, redis_url, broker).run(listings, changes)
    return {"sizes": asdict(sizes), "bare": bare, **piped, "redis_sink": bool(redis_url), "logs": str(workdir)}


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
