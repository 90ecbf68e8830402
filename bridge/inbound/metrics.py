"""Prometheus metrics of the receiver, on a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "ReceiverMetrics"]


class ReceiverMetrics:
    """Requests by route and status, commands by action and outcome, latency, listeners, and the
    process's own collectors (CPU, memory, file descriptors, GC, Python) as in every other role."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "gwsb_inbound_requests", "HTTP requests answered", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "gwsb_inbound_request_duration_seconds",
            "time to answer a request",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.commands = Counter(
            "gwsb_commands",
            "commands by action and final status",
            ["action", "status"],
            registry=self.registry,
        )
        self.listeners = Gauge(
            "gwsb_outcome_listeners", "agents with a CometD outcome listener", registry=self.registry
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
