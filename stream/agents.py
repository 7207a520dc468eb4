"""The Faust agents: thin loops that hand messages to `stream.pipeline` and send what it returns."""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterable

from faust import StreamT
from faust.sensors.prometheus import PrometheusMonitor, setup_prometheus_sensors

from models.extractor import build_extractor
from stream import metrics, topics
from stream.app import app, settings
from stream.lag import export_consumer_lag
from stream.metrics_extra import TOP_PRODUCTS
from stream.outputs import deadletter_record
from stream.pipeline import Pipeline, ProductOutput, Source, group_key
from stream.sinks import RedisAlertSink
from stream.tables import as_current, groups, product_table, products

__all__ = ["process_products", "check_groups", "pipeline", "alert_sink"]

logger = logging.getLogger(__name__)

pipeline = Pipeline(extractor=build_extractor(settings.extraction, settings), control_topic=topics.CONTROL_TOPIC,
                    parked_grace_s=settings.parked_grace_s)
alert_sink = RedisAlertSink(settings.redis_url, stream=settings.alerts_stream, channel=settings.alerts_channel,
                            maxlen=settings.alerts_stream_maxlen) if settings.redis_url else None


# Faust's own sensor serves /metrics, with our metrics beside its own; a fixed prefix, so the
# dashboards do not depend on PW_APP_ID.
setup_prometheus_sensors(app, name_prefix="pricewatch")


class _CachedLabels:
    """A labelled Prometheus metric whose `labels(...)` children are looked up once.

    `labels()` takes a lock and builds the label tuple on every call; Faust's sensor calls it
    several times per message. Removing or clearing a series drops the cache, so a series
    removed at a rebalance comes back as a fresh child.
    """

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[Any, Any] = {}

    def labels(self, *values: Any, **named: Any) -> Any:
        key = (values, tuple(named.items()))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._metric.labels(*values, **named)
        return child

    def remove(self, *values: Any) -> None:
        self._children.clear()
        self._metric.remove(*values)

    def clear(self) -> None:
        self._children.clear()
        self._metric.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._metric, name)


class _LeanPrometheusMonitor(PrometheusMonitor):
    """Faust's Prometheus sensor, same metrics, with its per-message label look-ups cached."""

    _labels: dict[int, str] = {}

    def _stream_label(self, stream: Any) -> str:  # a regex per event otherwise
        label = self._labels.get(id(stream))
        if label is None:
            if len(self._labels) > 1000:
                self._labels.clear()
            label = self._labels[id(stream)] = super()._stream_label(stream)
        return label


def _lean_monitor(monitor: PrometheusMonitor) -> PrometheusMonitor:
    metrics = monitor._metrics
    cached = {name: _CachedLabels(value) for name, value in metrics._asdict().items()
              if getattr(value, "_labelnames", None)}
    return _LeanPrometheusMonitor(metrics=metrics._replace(**cached))


app.monitor = _lean_monitor(app.monitor)


@app.task
async def _connect_sinks() -> None:
    if alert_sink is not None:
        await alert_sink.setup()


@app.timer(interval=5.0)
async def _export_lag() -> None:
    await export_consumer_lag(app, settings)
    TOP_PRODUCTS.publish()  # alerts publish it at most once a second; this catches the last ones


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


@app.agent(topics.inputs)
async def process_products(stream: StreamT) -> None:
    """Listings and price changes, per product: enrich, keep state, product-level alerts.

    A batch at a time (`take_events`): the doses of its listings are read concurrently (an LLM
    answer does not stall the other products), and its group events travel to the group stage
    in one message per partition. Faust acknowledges the batch's input offsets only after this
    loop has sent every output of the batch.
    """
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        await _process_batch(events)


async def _process_batch(events: list) -> None:
    messages = []
    for event in events:
        msg = event.message
        metrics.labelled(metrics.EVENTS_IN, msg.topic).inc()
        messages.append((Source(msg.topic, msg.partition, msg.offset, msg.key), msg.value))
    outputs = await pipeline.handle_batch(messages, products, context=lambda i: as_current(events[i]))
    group_events: list[tuple[str, bytes, float]] = []  # (通用名, JSON, arrival time)
    alerts: list[dict[str, Any]] = []
    for event, output in zip(events, outputs):
        for out in output.flatten():
            await _send_product_output(out, event.message.key, event.message.timestamp, group_events, alerts)
    await _sink_alerts(alerts)
    await _send_group_events((key, payload) for key, payload, _ in group_events)
    now = time.time()
    for _, _, arrived in group_events:
        metrics.END_TO_END_LATENCY.observe(max(0.0, now - arrived))


@app.timer(interval=max(1.0, settings.parked_grace_s / 3))
async def _sweep_parked() -> None:
    """Ask the product agent to dead-letter price changes whose listing has not come in time.

    The sweep only reads the table; the expiry itself runs inside the agent, as a message on
    the product-keyed control topic, because a table is written from its own stream only.
    """
    line = time.time() - settings.parked_grace_s
    try:
        # The store itself, not the table: the table's items() calls a sensor for every key.
        due = [product_id for product_id, raw in list(product_table.data.items())
               if b'"parked"' in raw  # cheap test first: a worker holds many products, few parked
               and (pipeline.parked_since(json.loads(raw)) or line) < line]
    except Exception:  # a sweep must never take the worker down; the next one tries again
        logger.exception("sweep of parked price changes failed")
        return
    for product_id in due:
        await topics.control.send(key=product_id.encode(), value=b"expire")


async def _send_product_output(out: ProductOutput, key: Any, arrived: float,
                               group_events: list[tuple[str, bytes, float]], alerts: list[dict[str, Any]]) -> None:
    if out.parked:
        return
    if out.deadletter is not None:
        await topics.deadletter.send(key=key, value=_dump(out.deadletter))
        metrics.labelled(metrics.EVENTS_OUT, topics.DEADLETTER_TOPIC).inc()
        return
    enriched = _dump(out.enriched)
    await topics.enriched.send(key=out.enriched["product_id"].encode(), value=enriched)
    metrics.labelled(metrics.EVENTS_OUT, topics.ENRICHED_TOPIC).inc()
    await _send_alerts(out.alerts)
    alerts.extend(out.alerts)
    group_events.append((group_key(out.group_event), _group_payload(out, enriched, arrived), arrived))


def _group_payload(out: ProductOutput, enriched: bytes, arrived: float) -> bytes:
    """The group event as JSON, with the time its input arrived (for the latency metric).

    A group event is the enriched record plus `product_alert_types`, so it is written as the
    enriched record's bytes with that field added, instead of encoding the whole record twice.
    """
    event = out.group_event
    if (len(event) == len(out.enriched) + 1 and "product_alert_types" in event and "_arrived" not in event
            and enriched.endswith(b"}") and len(enriched) > 2):
        return b"".join((enriched[:-1], b',"product_alert_types":', _dump(event["product_alert_types"]),
                         b',"_arrived":', json.dumps(arrived).encode(), b"}"))
    return _dump({**event, "_arrived": arrived})


# A group-events message holds at most this much JSON (Kafka's default message limit is 1 MB).
_BUNDLE_BYTES = 256 * 1024
_partition_of: dict[str, int] = {}


def _group_partition(key: str) -> int | None:
    """The group-events partition of a peer group: the producer's partitioner on its key, as Kafka would."""
    partition = _partition_of.get(key)
    if partition is None:
        try:
            partition = app.producer.key_partition(topics.GROUP_EVENTS_TOPIC, key.encode()).partition
        except Exception:  # no metadata for the topic yet: the caller sends this one on its own
            return None
        if len(_partition_of) > 100_000:
            _partition_of.clear()
        _partition_of[key] = partition
    return partition


async def _send_group_events(items: Iterable[tuple[str, bytes]]) -> None:
    """The batch's group events, one message per group-events partition (a JSON list, in order).

    Each event goes to the partition its 通用名 hashes to, exactly where a message keyed by it
    would go, so each peer group is still read by one worker, in order, and its table writes
    land in the partition its state is restored from.
    """
    bundles: dict[int, list[bytes]] = {}
    sizes: dict[int, int] = {}
    for key, payload in items:
        partition = _group_partition(key)
        if partition is None:
            await topics.group_events.send(key=key.encode(), value=payload)
            continue
        bundle = bundles.setdefault(partition, [])
        if bundle and sizes[partition] + len(payload) > _BUNDLE_BYTES:
            await _send_bundle(partition, bundle)
            bundle = bundles[partition] = []
            sizes[partition] = 0
        bundle.append(payload)
        sizes[partition] = sizes.get(partition, 0) + len(payload)
    for partition, payloads in bundles.items():
        await _send_bundle(partition, payloads)


async def _send_bundle(partition: int, payloads: list[bytes]) -> None:
    await topics.group_events.send(key=None, value=b"[" + b",".join(payloads) + b"]", partition=partition)


def _group_events_in(event: Any) -> list[dict[str, Any]]:
    """The group events one group-events message carries: a list (a bundle) or one event."""
    raw = event.message.value
    try:
        value = json.loads(raw)
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, dict) for v in values):
            raise ValueError("not a JSON object or a list of them")
        return values
    except ValueError as exc:  # only our own workers write this topic; keep what cannot be read
        msg = event.message
        logger.error("unreadable group-events message %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, exc)
        metrics.DEADLETTERS.labels("processing_error").inc()
        return [{"_unreadable": deadletter_record(Source(msg.topic, msg.partition, msg.offset, msg.key), raw,
                                                  "processing_error", f"unreadable group-events message: {exc}")}]


@app.agent(topics.group_events)
async def check_groups(stream: StreamT) -> None:
    """Enriched events per 通用名: the peer-group detectors, a batch of group-events messages at a time."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        results = []
        for event in events:
            for value in _group_events_in(event):
                metrics.labelled(metrics.EVENTS_IN, topics.GROUP_EVENTS_TOPIC).inc()
                if "_unreadable" in value:
                    results.append((value, None, [], value["_unreadable"]))
                    continue
                arrived = value.pop("_arrived", None)
                with as_current(event):
                    results.append((value, arrived, *pipeline.run_group_stage(value, groups)))
        groups.flush()  # one changelog write per peer group touched by the batch
        alerts: list[dict[str, Any]] = []
        for value, arrived, group_alerts, dead in results:
            if dead is not None:
                await topics.deadletter.send(key=(value.get("product_id") or "").encode(), value=_dump(dead))
                metrics.labelled(metrics.EVENTS_OUT, topics.DEADLETTER_TOPIC).inc()
                continue
            await _send_alerts(group_alerts)
            alerts.extend(group_alerts)
            correction = await pipeline.recheck_dose(value, group_alerts)
            if correction is not None:
                await topics.enriched.send(key=correction["product_id"].encode(), value=_dump(correction))
                metrics.labelled(metrics.EVENTS_OUT, topics.ENRICHED_TOPIC).inc()
        await _sink_alerts(alerts)
        now = time.time()
        for value, arrived, group_alerts, dead in results:
            if group_alerts and arrived:
                metrics.END_TO_END_LATENCY.observe(max(0.0, now - arrived))


async def _send_alerts(alerts: list[dict[str, Any]]) -> None:
    for alert in alerts:
        await topics.alerts.send(key=(alert.get("product_id") or "").encode(), value=_dump(alert))
        metrics.labelled(metrics.EVENTS_OUT, topics.ALERTS_TOPIC).inc()


async def _sink_alerts(alerts: list[dict[str, Any]]) -> None:
    """A batch's alerts to the Redis stream and channel: one round trip for the batch."""
    if alert_sink is not None and alerts:
        await alert_sink.write(alerts)
