"""Prometheus metrics of the delivery pipeline (one registry per process).

``gws-bridge worker --metrics-port N`` serves them; the subscriber's process
counts routed events in the same default registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "DEAD_LETTERS",
    "DELIVERIES",
    "DELIVERY_LATENCY",
    "DESTINATIONS_DISABLED",
    "DISABLED_DESTINATIONS",
    "EVENTS_ROUTED",
    "EVENTS_UNROUTED",
    "JOURNAL_DEPTH",
    "JOURNAL_REPUBLISHED",
    "RETRY_SCHEDULE_DEPTH",
]

EVENTS_ROUTED = Counter("gwsb_events_routed", "Events routed to a destination and enqueued", ["destination"])
EVENTS_UNROUTED = Counter("gwsb_events_unrouted", "Events no route matched")
DELIVERIES = Counter(
    "gwsb_deliveries",
    "Delivery attempts and steps by destination and outcome (delivered, retry, dead, deferred, parked)",
    ["destination", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "gwsb_delivery_latency_seconds",
    "Seconds from first enqueue to successful delivery",
    ["destination"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000),
)
RETRY_SCHEDULE_DEPTH = Gauge("gwsb_retry_schedule_depth", "Entries waiting in the due-retry schedule")
DEAD_LETTERS = Counter("gwsb_dead_letters", "Deliveries dead-lettered", ["destination"])
DESTINATIONS_DISABLED = Counter(
    "gwsb_destination_disablements", "Times a destination was disabled automatically (see the gauge below)"
)
DISABLED_DESTINATIONS = Gauge("gwsb_disabled_destinations", "Destinations currently disabled")
JOURNAL_DEPTH = Gauge("gwsb_journal_depth", "Unordered batches journaled and not yet finished")
JOURNAL_REPUBLISHED = Counter(
    "gwsb_journal_republished", "Journaled batches published again by the sweep (their message was lost)"
)
