"""What an operator may do to the delivery side, in one place: ``gws-bridge dlq`` / ``destinations``
and the console's admin API are both clients of :class:`DeliveryAdmin`.

Dead letters are chosen by a :class:`LetterFilter` (ids, destination, time range, limit). Replay
and purge refuse a filter that selects nothing in particular unless ``everything`` is asked for,
like ``--all`` on the command line; they stream the selection ``batch_size`` letters at a time
(read, act, move on: memory stays bounded), report each batch to an optional callback (the CLI's
progress line), and with ``dry_run`` only count what they would do.

Destinations: health rows, enable (forget failures, resend parked events, kick FIFO subjects),
disable by hand, and a test event sent through the normal delivery path (the due-retry
schedule, so the worker's usual attempt, recording and retries apply).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.delivery.deadletters import DeadLetter, DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.ordering import FifoStore
from bridge.delivery.retries import FifoKick, RetrySchedule, parse_scheduled
from bridge.errors import BridgeError
from bridge.events import Event, EventType

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "AdminError",
    "BatchCallback",
    "BulkResult",
    "DeliveryAdmin",
    "LetterFilter",
    "parse_time",
]

#: dead letters read and acted on per round trip by a replay or purge
DEFAULT_BATCH_SIZE = 500

#: ``callback(batch, done, expected)`` after each batch: the letters just handled, how many so far,
#: and how many the selection may hold at most (for a progress line)
BatchCallback = Callable[[list[DeadLetter], int, int], None]

#: above this many scheduled retries, per-destination depths are not counted (one ZCARD instead)
_DEPTH_SCAN_LIMIT = 20_000


class AdminError(BridgeError):
    """An operator request that cannot be done as asked; ``status`` is its HTTP status."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True, slots=True)
class LetterFilter:
    """Which dead letters: these ``ids``, or all narrowed by destination and time (Unix seconds)."""

    ids: tuple[str, ...] = ()
    destination: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int | None = None

    @property
    def unfiltered(self) -> bool:
        return not (self.ids or self.destination or self.since is not None or self.until is not None)


@dataclass(frozen=True, slots=True)
class BulkResult:
    """How many letters a replay or purge moved, and the asked-for ids that do not exist."""

    count: int
    missing: list[str] = field(default_factory=list)


class DeliveryAdmin:
    """Operator actions on dead letters and destinations, over one Redis client."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        keys = settings.keys
        self._settings = settings
        self.destinations_by_name: dict[str, DestinationConfig] = {d.name: d for d in settings.destinations}
        self.letters = DeadLetterStore(redis, keys)
        self.health = HealthStore(redis, keys)
        self.fifo = FifoStore(redis, keys)
        self.retries = RetrySchedule(redis, keys)
        self._redis = redis

    # -- dead letters ----------------------------------------------------------------------------

    async def dead_letters(self, selection: LetterFilter) -> list[DeadLetter]:
        """The letters ``selection`` names, oldest first."""
        return await self.letters.select(
            ids=selection.ids, destination=selection.destination, since=selection.since,
            until=selection.until, limit=selection.limit,
        )  # fmt: skip

    async def dead_letter(self, letter_id: str) -> DeadLetter | None:
        return await self.letters.get(letter_id)

    async def replay(
        self, selection: LetterFilter, *, everything: bool = False, dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE, on_batch: BatchCallback | None = None,
    ) -> BulkResult:  # fmt: skip
        """Move the chosen letters back into the retry schedule (fresh attempt log), a batch at a time."""
        return await self._bulk("replay", selection, everything, dry_run, batch_size, on_batch)

    async def purge(
        self, selection: LetterFilter, *, everything: bool = False, dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE, on_batch: BatchCallback | None = None,
    ) -> BulkResult:  # fmt: skip
        """Delete the chosen letters for good, a batch at a time."""
        return await self._bulk("purge", selection, everything, dry_run, batch_size, on_batch)

    async def _bulk(
        self, action: str, selection: LetterFilter, everything: bool, dry_run: bool, batch_size: int,
        on_batch: BatchCallback | None,
    ) -> BulkResult:  # fmt: skip
        if selection.unfiltered and not everything:
            raise AdminError(f"{action}: give ids or filters, or all", field="all")
        if batch_size < 1:
            raise AdminError(f"{action}: batch size must be at least 1", field="batch_size")
        act = self.letters.replay if action == "replay" else self.letters.purge
        expected = len(set(selection.ids)) if selection.ids else await self.letters.count_between(
            selection.since, selection.until
        )  # fmt: skip
        if selection.limit is not None:
            expected = min(expected, selection.limit)
        done, handled = 0, set[str]()
        async for batch in self.letters.batches(
            batch_size=batch_size, ids=selection.ids, destination=selection.destination,
            since=selection.since, until=selection.until, limit=selection.limit, consuming=not dry_run,
        ):  # fmt: skip
            done += len(batch) if dry_run else await act(batch)
            if selection.ids:
                handled.update(letter.id for letter in batch)
            if on_batch is not None:
                on_batch(batch, done, max(expected, done))
        return BulkResult(done, sorted(set(selection.ids) - handled))

    # -- destinations ----------------------------------------------------------------------------

    def _config(self, name: str) -> DestinationConfig:
        config = self.destinations_by_name.get(name)
        if config is None:
            raise AdminError(f"unknown destination {name!r}", status=404, field="name")
        return config

    async def retry_depths(self) -> tuple[int, dict[str, int] | None]:
        """Scheduled retries in all, and per destination (``None`` when too many to count cheaply)."""
        total = await self.retries.depth()
        if total > _DEPTH_SCAN_LIMIT:
            return total, None
        per: Counter[str] = Counter()
        for wire, _ in await self.retries.entries():
            try:
                item = parse_scheduled(wire)
            except (ValueError, KeyError, TypeError):
                continue
            per[item.destination] += 1
        return total, dict(per)

    async def destination_rows(self) -> list[dict[str, Any]]:
        """One row per configured destination: kind, state and why, parked, failures, letters, retries."""
        disabled = await self.health.disabled()
        letters: Counter[str] = Counter()
        async for batch in self.letters.batches(batch_size=DEFAULT_BATCH_SIZE):  # bounded memory
            letters.update(letter.delivery.destination for letter in batch)
        _, depths = await self.retry_depths()
        rows = []
        for dest in self._settings.destinations:
            info = disabled.get(dest.name)
            rows.append(
                {
                    "name": dest.name,
                    "kind": dest.kind,
                    "ordered": dest.ordered,
                    "state": "disabled" if info else "enabled",
                    "disabled_reason": info.reason if info else None,
                    "disabled_at": _when(info.at) if info else None,
                    "parked": await self.health.parked_count(dest.name),
                    "recent_failures": await self.health.failure_count(dest.name),
                    "dead_letters": letters.get(dest.name, 0),
                    "retries_scheduled": None if depths is None else depths.get(dest.name, 0),
                }
            )
        return rows

    async def unconfigured_disabled(self) -> list[str]:
        """Destinations marked disabled in Redis that the configuration no longer has."""
        return sorted(set(await self.health.disabled()) - set(self.destinations_by_name))

    async def enable(self, name: str) -> tuple[int, int]:
        """Enable ``name``: ``(kept events rescheduled, ordered subjects kicked)``."""
        self._config(name)
        moved = await self.health.enable(name)
        kicks = [FifoKick(name, s).to_wire() for s in await self.fifo.subjects(name)]
        if kicks:
            now = time.time()
            await self.retries.add((wire, now) for wire in kicks)
        return moved, len(kicks)

    async def disable(self, name: str, reason: str) -> bool:
        """Disable ``name`` by hand (its deliveries are parked); False if it was disabled already."""
        self._config(name)
        return await self.health.disable(name, reason)

    async def send_test(self, name: str, requested_by: str) -> Event:
        """Schedule a ``destination.test`` event for ``name`` now; the worker delivers it as any other."""
        config = self._config(name)
        now = datetime.now(UTC)
        millis = int(now.timestamp() * 1000)
        event = Event(
            id=f"{EventType.DESTINATION_TEST.value}:{name}:{millis}",
            source=f"{self._settings.normalizer.source}/console",
            type=EventType.DESTINATION_TEST.value,
            subject=f"destination/{name}",
            time=now,
            data={"destination": name, "kind": config.kind, "requested_by": requested_by},
            sequence=millis,
            partitionkey=name,
        )
        await self.retries.add([(QueuedDelivery.for_event(event, name).to_wire(), time.time())])
        return event


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(value: str) -> float:
    """Unix seconds from ISO 8601, Unix seconds or an age (``15m``: that long ago); ``ValueError`` if none."""
    text = value.strip()
    if text[-1:] in _UNITS and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * _UNITS[text[-1]]
    if text.replace(".", "", 1).isdigit():
        return float(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
