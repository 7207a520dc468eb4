"""The Faust agents: thin loops that hand messages to `stream.pipeline` and send what it returns."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from faust import StreamT
from faust.sensors.prometheus import setup_prometheus_sensors

from models.extractor import build_extractor
from stream import metrics, topics
from stream.app import app, settings
from stream.lag import export_consumer_lag
from stream.pipeline import Pipeline, ProductOutput, Source
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


@app.task
async def _connect_sinks() -> None:
    if alert_sink is not None:
        await alert_sink.setup()


@app.timer(interval=5.0)
async def _export_lag() -> None:
    await export_consumer_lag(app, settings)


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


@app.agent(topics.inputs)
async def process_products(stream: StreamT) -> None:
    """Listings and price changes, per product: enrich, keep state, product-level alerts.

    With an LLM in the loop the doses of a batch are read concurrently (`take_events`); the rule
    path reads one event at a time, acknowledged by Faust's own per-event path.
    """
    if settings.extraction == "rules":
        async for event in stream.events():
            await _process_batch([event])
    else:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
            await _process_batch(events)


async def _process_batch(events: list) -> None:
    messages = []
    for event in events:
        msg = event.message
        metrics.EVENTS_IN.labels(msg.topic).inc()
        messages.append((Source(msg.topic, msg.partition, msg.offset, msg.key), msg.value))
    outputs = await pipeline.handle_batch(messages, products, context=lambda i: as_current(events[i]))
    for event, output in zip(events, outputs):
        for out in output.flatten():
            await _send_product_output(out, event.message.key, event.message.timestamp)


@app.timer(interval=max(1.0, settings.parked_grace_s / 3))
async def _sweep_parked() -> None:
    """Ask the product agent to dead-letter price changes whose listing has not come in time.

    The sweep only reads the table; the expiry itself runs inside the agent, as a message on
    the product-keyed control topic, because a table is written from its own stream only.
    """
    line = time.time() - settings.parked_grace_s
    try:
        due = [product_id for product_id, raw in list(product_table.items())
               if b'"parked"' in raw  # cheap test first: a worker holds many products, few parked
               and (pipeline.parked_since(json.loads(raw)) or line) < line]
    except Exception:  # a sweep must never take the worker down; the next one tries again
        logger.exception("sweep of parked price changes failed")
        return
    for product_id in due:
        await topics.control.send(key=product_id.encode(), value=b"expire")


async def _send_product_output(out: ProductOutput, key: Any, arrived: float) -> None:
    if out.parked:
        return
    if out.deadletter is not None:
        await topics.deadletter.send(key=key, value=_dump(out.deadletter))
        metrics.EVENTS_OUT.labels(topics.DEADLETTER_TOPIC).inc()
        return
    await topics.enriched.send(key=out.enriched["product_id"].encode(), value=_dump(out.enriched))
    metrics.EVENTS_OUT.labels(topics.ENRICHED_TOPIC).inc()
    await _send_alerts(out.alerts)
    group_event = {**out.group_event, "_arrived": arrived}
    await topics.group_events.send(key=out.group_event.get("generic_name") or "", value=group_event)
    metrics.END_TO_END_LATENCY.observe(max(0.0, time.time() - arrived))


@app.agent(topics.group_events)
async def check_groups(stream: StreamT) -> None:
    """Enriched events per 通用名: the peer-group detectors, a batch at a time."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        results = []
        for event in events:
            metrics.EVENTS_IN.labels(topics.GROUP_EVENTS_TOPIC).inc()
            value = dict(event.value)
            arrived = value.pop("_arrived", None)
            with as_current(event):
                results.append((value, arrived, *pipeline.run_group_stage(value, groups)))
        groups.flush()  # one changelog write per peer group touched by the batch
        for value, arrived, alerts, dead in results:
            if dead is not None:
                await topics.deadletter.send(key=(value.get("product_id") or "").encode(), value=_dump(dead))
                continue
            await _send_alerts(alerts)
            correction = await pipeline.recheck_dose(value, alerts)
            if correction is not None:
                await topics.enriched.send(key=correction["product_id"].encode(), value=_dump(correction))
                metrics.EVENTS_OUT.labels(topics.ENRICHED_TOPIC).inc()
            if alerts and arrived:
                metrics.END_TO_END_LATENCY.observe(max(0.0, time.time() - arrived))


async def _send_alerts(alerts: list[dict[str, Any]]) -> None:
    for alert in alerts:
        await topics.alerts.send(key=(alert.get("product_id") or "").encode(), value=_dump(alert))
        metrics.EVENTS_OUT.labels(topics.ALERTS_TOPIC).inc()
    if alert_sink is not None:
        await alert_sink.write(alerts)
