"""Recording what became of deliveries: retries, deferrals, dead letters, health, metrics.

The results of a batch or of a FIFO head are persisted in one Redis transaction (a
journaled batch's completion and the console's record of the attempts join it), then
destination health and the metrics are updated, and the bridge announces dead letters and
disabled destinations as its own events (``delivery.dead_lettered``, ``destination.disabled``)
to wherever routes send them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from bridge.config.delivery import DestinationConfig
from bridge.delivery.attempt import DeliveryContext, Finish
from bridge.delivery.items import AttemptRecord, Outcome, QueuedDelivery, Result
from bridge.delivery.metrics import (
    DEAD_LETTERS,
    DELIVERIES,
    DELIVERY_LATENCY,
    DESTINATIONS_DISABLED,
)
from bridge.events import Event, EventType
from bridge.routing import destinations_for

__all__ = ["Recorder"]

logger = logging.getLogger(__name__)


class Recorder:
    """Persists results and announces dead letters and disabled destinations."""

    def __init__(self, context: DeliveryContext) -> None:
        self._context = context

    async def record(
        self,
        config: DestinationConfig,
        results: list[Result],
        *,
        schedule: bool,
        finish: Finish | None = None,
    ) -> None:
        """Persist retries (when ``schedule``), deferrals and dead letters, then update health and metrics.

        ``finish`` (a journaled batch's completion) joins the same transaction.
        """
        context = self._context
        name = config.name
        dead = [r for r in results if r.outcome is Outcome.DEAD]
        later = [r for r in results if r.outcome in (Outcome.RETRY, Outcome.DEFERRED)] if schedule else []
        log = context.attempt_log
        if dead or later or finish is not None:
            async with self._context.redis.pipeline(transaction=True) as pipe:
                if later:
                    pipe.zadd(context.retries.key, {r.delivery.to_wire(): r.due for r in later})
                for r in dead:
                    context.dead_letters.add_to(pipe, r.delivery, r.reason)
                if finish is not None:
                    finish(pipe)
                if log is not None:  # the console's record rides along: no extra round trip
                    log.add_to(pipe, name, results)
                    log = None
                await pipe.execute()
        now = time.time()
        counts: dict[Outcome, int] = {}
        for r in results:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
            if r.outcome is Outcome.DELIVERED:
                DELIVERY_LATENCY.labels(name).observe(max(now - r.delivery.queued_at, 0.0))
        for outcome, count in counts.items():
            DELIVERIES.labels(name, outcome.value).inc(count)
        if dead:
            DEAD_LETTERS.labels(name).inc(len(dead))
            logger.warning("dead-lettered", extra={"destination": name, "count": len(dead)})
        disabling = next((r for r in dead if r.disable), None)
        failures = sum(1 for r in results if r.attempted and r.outcome in (Outcome.RETRY, Outcome.DEAD))
        if disabling is not None:
            tripped = await context.health.disable(name, disabling.reason)
            reason = disabling.reason
        else:
            policy = config.health or context.settings.health
            reason = f"{policy.failure_threshold} failures in a row"
            tripped = await context.health.record(
                name,
                successes=counts.get(Outcome.DELIVERED, 0),
                failures=failures,
                policy=policy,
                reason=reason,
            )
        if dead:
            await self._announce_dead(name, dead)
        if tripped:
            await self._announce_disabled(config, reason)
        if log is not None:  # nothing else to write: the console's record goes last, on its own
            await log.add(name, results)

    async def record_unknown(
        self, destination: str, deliveries: list[QueuedDelivery], finish: Finish | None = None
    ) -> None:
        now = time.time()
        reason = f"destination {destination!r} is not configured"
        async with self._context.redis.pipeline(transaction=True) as pipe:
            for d in deliveries:
                self._context.dead_letters.add_to(
                    pipe, d.with_attempt(AttemptRecord(now, "failed", reason)), reason
                )
            if finish is not None:
                finish(pipe)
            await pipe.execute()
        DEAD_LETTERS.labels(destination).inc(len(deliveries))
        logger.error("unconfigured destination: deliveries dead-lettered", extra={"destination": destination})

    async def _announce_disabled(self, config: DestinationConfig, reason: str) -> None:
        """Emit ``destination.disabled`` to wherever routes send it (never to the disabled one)."""
        DESTINATIONS_DISABLED.inc()
        logger.warning("destination disabled", extra={"destination": config.name, "reason": reason})
        data = {"destination": config.name, "kind": config.kind, "reason": reason}
        await self._announce(
            [self._bridge_event(EventType.DESTINATION_DISABLED, config.name, data)], config.name
        )

    async def _announce_dead(self, destination: str, dead: list[Result]) -> None:
        """Emit ``delivery.dead_lettered`` per dead letter, except for the bridge's own events (no loops)."""
        events = []
        for result in dead:
            d = result.delivery
            if str(orjson.loads(d.event_json).get("type", "")).startswith(("delivery.", "destination.")):
                continue
            data = {
                "destination": destination,
                "dead_letter_id": f"{destination}:{d.event_id}",
                "event_id": d.event_id,
                "subject": d.subject,
                "reason": result.reason,
                "attempts": len(d.attempts),
            }
            events.append(
                self._bridge_event(EventType.DELIVERY_DEAD_LETTERED, destination, data, key=d.event_id)
            )
        await self._announce(events, destination)

    def _bridge_event(
        self, kind: EventType, destination: str, data: Mapping[str, object], key: str = ""
    ) -> Event:
        now = datetime.now(UTC)
        millis = int(now.timestamp() * 1000)
        return Event(
            id=f"{kind.value}:{destination}:{key + ':' if key else ''}{millis}",
            source=f"{self._context.source}/delivery",
            type=kind.value,
            subject=f"destination/{destination}",
            time=now,
            data=dict(data),
            sequence=millis,
            partitionkey=destination,
        )

    async def emit(self, event: Event) -> None:
        """Route ``event`` (one the delivery side produced) and enqueue it; raises ``EnqueueError``."""
        await self._announce([event], about="")

    async def _announce(self, events: list[Event], about: str) -> None:
        deliveries = [
            QueuedDelivery.for_event(event, name)
            for event in events
            for name in destinations_for(event, self._context.routes)
            if name != about
        ]
        if deliveries:
            await self._context.enqueue(deliveries)
