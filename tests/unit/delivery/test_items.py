"""Queued deliveries round-trip, and the retry schedule with jitter and Retry-After."""

from __future__ import annotations

import random

from bridge.config.delivery import DEFAULT_RETRY_SCHEDULE
from bridge.delivery.items import AttemptRecord, QueuedDelivery, next_retry_delay
from bridge.delivery.retries import FifoKick, parse_scheduled
from tests.plugins.delivery import make_event


def test_wire_round_trip_keeps_event_and_attempt_log() -> None:
    event = make_event(7, subject="call/x")
    delivery = QueuedDelivery.for_event(event, "crm", now=100.0).with_attempt(
        AttemptRecord(101.0, "failed", "503")
    )
    back = QueuedDelivery.from_wire(delivery.to_wire())
    assert back == delivery
    assert back.event() == event
    assert back.fresh().attempts == ()


def test_schedule_entries_are_deliveries_or_fifo_kicks() -> None:
    delivery = QueuedDelivery.for_event(make_event(1), "crm")
    assert parse_scheduled(delivery.to_wire()) == delivery
    assert parse_scheduled(FifoKick("crm", "call/1").to_wire()) == FifoKick("crm", "call/1")


def test_default_schedule_is_the_standard_webhooks_one() -> None:
    delays = [next_retry_delay(n, DEFAULT_RETRY_SCHEDULE, jitter=0) for n in range(1, 9)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]  # 8 attempts in all


def test_jitter_stays_within_twenty_percent() -> None:
    rng = random.Random(1)
    delays = [next_retry_delay(2, [5.0, 300.0], jitter=0.2, rng=rng) for _ in range(500)]
    assert all(d is not None and 240.0 <= d <= 360.0 for d in delays)
    assert len({round(d or 0, 3) for d in delays}) > 100  # actually jittered


def test_retry_after_replaces_the_wait_but_is_capped_and_grants_no_extra_attempt() -> None:
    assert next_retry_delay(1, [5.0], jitter=0.2, retry_after=42.0) == 42.0
    assert next_retry_delay(1, [5.0], jitter=0, retry_after=10_000.0, max_retry_after=600.0) == 600.0
    assert next_retry_delay(2, [5.0], jitter=0, retry_after=1.0) is None
