"""The bounded top-products gauge: right counts, never more series than its size, Space-Saving eviction."""
from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge

from stream.metrics_extra import TOP_PRODUCT_ALERTS, TopProducts


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def top(registry):
    def make(size=3, capacity=10):
        gauge = Gauge("test_top_alerts", "test", ["product_id", "generic_name"], registry=registry)
        return TopProducts(size=size, capacity=capacity, gauge=gauge, interval_s=0)
    return make


def _series(registry) -> dict[str, float]:
    (family,) = registry.collect()
    return {sample.labels["product_id"]: sample.value for sample in family.samples}


class TestTopProducts:
    def test_publishes_the_top_counts(self, top, registry):
        tracker = top(size=2)
        for product in ["A", "B", "A", "C", "A", "B"]:
            tracker.record(product, "银杏叶片")
        assert _series(registry) == {"A": 3.0, "B": 2.0}

    def test_series_never_exceed_size_and_leavers_are_removed(self, top, registry):
        tracker = top(size=3, capacity=50)
        for n in range(40):
            tracker.record(f"P{n}")
            assert len(_series(registry)) <= 3
        for _ in range(5):
            tracker.record("HOT")
        assert "HOT" in _series(registry) and len(_series(registry)) == 3

    def test_memory_is_bounded_by_capacity_and_a_heavy_hitter_survives(self, top):
        tracker = top(size=1, capacity=5)
        for n in range(200):
            tracker.record("HEAVY")
            tracker.record(f"rare{n}")
        assert len(tracker._counts) <= 5
        (product, _, count), = tracker.top()
        assert product == "HEAVY" and count >= 200  # Space-Saving may over-count, never under-count

    def test_keeps_the_generic_name_label(self, top, registry):
        tracker = top()
        tracker.record("A", "阿奇霉素胶囊")
        assert registry.get_sample_value("test_top_alerts", {"product_id": "A", "generic_name": "阿奇霉素胶囊"}) == 1.0

    @pytest.mark.parametrize("size, capacity", [(0, 10), (11, 10)])
    def test_rejects_bad_sizes(self, size, capacity):
        with pytest.raises(ValueError, match="size"):
            TopProducts(size=size, capacity=capacity)

    def test_the_worker_gauge_is_named_as_the_dashboard_reads_it(self):
        assert TOP_PRODUCT_ALERTS._name == "pricewatch_top_product_alerts"
        assert TOP_PRODUCT_ALERTS._labelnames == ("product_id", "generic_name")


def test_alerts_publish_at_most_once_per_interval_and_publish_catches_up():
    registry = CollectorRegistry()
    gauge = Gauge("throttled_top_alerts", "doc", ["product_id", "generic_name"], registry=registry)
    top = TopProducts(size=2, capacity=4, gauge=gauge, interval_s=3600)
    top.record("P1", "银杏叶片")  # the first alert publishes
    top.record("P1", "银杏叶片")  # within the interval: counted, not yet published
    value = {"product_id": "P1", "generic_name": "银杏叶片"}
    assert registry.get_sample_value("throttled_top_alerts", value) == 1.0
    top.publish()
    assert registry.get_sample_value("throttled_top_alerts", value) == 2.0
