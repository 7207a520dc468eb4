"""The top products by alert count, as a Prometheus gauge with a bounded number of series.

A counter labelled by `product_id` would grow one series per product ever alerted (unbounded
cardinality). Instead the worker keeps an approximate top-k in bounded memory (the Space-Saving
algorithm: at most `capacity` counters; a new product evicts the smallest and inherits its count,
so counts can only be over-estimated, by at most that inherited count) and exports only the current
top `size`: a product that drops out of the top has its series removed, so a worker never exposes
more than `size` series. Counts start again from zero when the worker restarts.

The Grafana "Top products by alerts" panel sums the gauge over workers by product.
"""
from __future__ import annotations

import time

from prometheus_client import Gauge

__all__ = ["TOP_PRODUCT_ALERTS", "TopProducts", "TOP_PRODUCTS"]

TOP_PRODUCT_ALERTS = Gauge(
    "pricewatch_top_product_alerts",
    "Alerts raised per product, for this worker's current top products by alert count only",
    ["product_id", "generic_name"],
)


class TopProducts:
    """Approximate alert counts of the most-alerted products, published to a gauge.

    Parameters
    ----------
    size
        How many products are exported (series on the gauge).
    capacity
        How many products are counted; larger is more exact and uses more memory.
    gauge
        The gauge to publish to, labelled by `product_id` and `generic_name`.
    interval_s
        `record` publishes at most this often (ranking 1,000 counters per alert is costly);
        the worker's timer calls `publish` too, so the gauge is never staler than that.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> registry = CollectorRegistry()
    >>> gauge = Gauge("demo_top_alerts", "doc", ["product_id", "generic_name"], registry=registry)
    >>> top = TopProducts(size=2, capacity=3, gauge=gauge, interval_s=0)
    >>> for product in ["P1", "P2", "P1", "P3", "P1", "P2"]:
    ...     top.record(product, "银杏叶片")
    >>> top.top()
    [('P1', '银杏叶片', 3), ('P2', '银杏叶片', 2)]
    >>> sorted(s.labels["product_id"] for s in next(iter(registry.collect())).samples)
    ['P1', 'P2']
    >>> registry.get_sample_value("demo_top_alerts", {"product_id": "P1", "generic_name": "银杏叶片"})
    3.0
    """

    def __init__(self, size: int = 20, capacity: int = 1000, gauge: Gauge = TOP_PRODUCT_ALERTS,
                 interval_s: float = 1.0) -> None:
        if not 0 < size <= capacity:
            raise ValueError(f"need 0 < size <= capacity, got size={size}, capacity={capacity}")
        self.size = size
        self.capacity = capacity
        self.gauge = gauge
        self.interval_s = interval_s
        self._published_at = float("-inf")
        self._counts: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._published: set[tuple[str, str]] = set()

    def record(self, product_id: str, generic_name: str = "") -> None:
        """Count one alert of `product_id` and publish the new top."""
        if product_id not in self._counts and len(self._counts) >= self.capacity:
            evicted = min(self._counts, key=self._counts.__getitem__)
            inherited = self._counts.pop(evicted)
            self._names.pop(evicted, None)
            self._counts[product_id] = inherited  # Space-Saving: the newcomer may have been evicted before
        self._counts[product_id] = self._counts.get(product_id, 0) + 1
        self._names[product_id] = generic_name or self._names.get(product_id, "")
        if time.monotonic() - self._published_at >= self.interval_s:
            self.publish()

    def top(self) -> list[tuple[str, str, int]]:
        """The top `size` products as `(product_id, generic_name, count)`, most alerted first."""
        ranked = sorted(self._counts.items(), key=lambda item: (-item[1], item[0]))[: self.size]
        return [(product, self._names.get(product, ""), count) for product, count in ranked]

    def publish(self) -> None:
        """Set the gauge to the current top and remove the series of products that left it."""
        current = {(product, name): count for product, name, count in self.top()}
        for labels in self._published - current.keys():
            self.gauge.remove(*labels)
        for (product, name), count in current.items():
            self.gauge.labels(product_id=product, generic_name=name).set(count)
        self._published = set(current)
        self._published_at = time.monotonic()


TOP_PRODUCTS = TopProducts()  # the worker's instance: call TOP_PRODUCTS.record(...) once per alert sent
