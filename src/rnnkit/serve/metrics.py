"""Prometheus metrics of one server, in a registry of its own (several apps in one process stay apart)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("rnnkit_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("rnnkit_request_seconds", "Request latency by route", ["route"],
                                 buckets=_LATENCY, registry=self.registry)
        self.series_steps = Counter("rnnkit_series_steps", "Series steps answered (applied or replayed)",
                                    registry=self.registry)
        self.batch_rows = Histogram("rnnkit_batch_requests", "Requests per micro-batch",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384),
                                    registry=self.registry)
        self.batch_seconds = Histogram("rnnkit_batch_seconds", "Time to compute and commit one micro-batch",
                                       buckets=_LATENCY, registry=self.registry)
        self.conflict_count = Counter("rnnkit_store_conflicts", "Series recomputed because another process "
                                      "stepped them first", registry=self.registry)

    def batch(self, size: int, seconds: float) -> None:
        self.batch_rows.observe(size)
        self.batch_seconds.observe(seconds)

    def conflicts(self, n: int) -> None:
        self.conflict_count.inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
