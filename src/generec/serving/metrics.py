"""Prometheus metrics of the service: requests and latency per route, feed composition, and the
fidelity verdicts of the items in the store (read at scrape time). One registry per app."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from generec.workspace import Workspace

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _StoreCollector:
    """Items by origin and fidelity decision, and events by type, counted when scraped."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def collect(self):
        items = GaugeMetricFamily("generec_items", "Items in the store by origin and fidelity decision", labels=["origin", "decision"])
        for origin, decision, n in self.ws.items.decisions():
            items.add_metric([origin, decision], n)
        yield items
        events = GaugeMetricFamily("generec_events", "Interactions in the log by event", labels=["event"])
        for event, n in self.ws.interactions.counts().items():
            events.add_metric([event], n)
        yield events


class Metrics:
    def __init__(self, ws: Workspace) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("generec_http_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("generec_http_request_seconds", "HTTP request latency", ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.feed_items = Counter("generec_feed_items", "Feed entries served, by origin and way", ["origin", "way"], registry=self.registry)
        self.feedback = Counter("generec_feedback_events", "Feedback events stored, by event", ["event"], registry=self.registry)
        self.registry.register(_StoreCollector(ws))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI: counts and times every HTTP request by its route template (not its raw path,
    which would hold item ids)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("/static" if scope["path"].startswith("/static/") else "unmatched")
            self.metrics.observe(name, scope["method"], status[0], time.perf_counter() - started)
