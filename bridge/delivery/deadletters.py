"""The dead-letter store: every delivery that failed for good, with its attempt log.

A dead letter's id is ``<destination>:<event id>``, so the same event dying
twice for one destination is stored once (the latest attempt log wins).
Replaying moves letters back into the due-retry schedule with a fresh attempt
log, atomically per batch: a replayed letter is either still in the store or scheduled.
:meth:`DeadLetterStore.batches` walks a selection a batch at a time (bounded memory), so a
replay or purge of a million letters reads, acts and moves on.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config.keys import Keys
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.redisio import text

__all__ = ["DeadLetter", "DeadLetterStore"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One undeliverable event for one destination."""

    id: str
    dead_at: float
    reason: str
    delivery: QueuedDelivery

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the event decoded, attempts as objects)."""
        return {
            "id": self.id,
            "destination": self.delivery.destination,
            "event_id": self.delivery.event_id,
            "subject": self.delivery.subject,
            "dead_at": self.dead_at,
            "reason": self.reason,
            "attempts": [record.to_dict() for record in self.delivery.attempts],
            "event": orjson.loads(self.delivery.event_json),
        }

    def to_json(self) -> str:
        return orjson.dumps(
            {"id": self.id, "dead_at": self.dead_at, "reason": self.reason, "wire": self.delivery.to_wire()}
        ).decode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> DeadLetter:
        data = orjson.loads(raw)
        return cls(data["id"], float(data["dead_at"]), data["reason"], QueuedDelivery.from_wire(data["wire"]))


def _bounds(since: float | None, until: float | None) -> tuple[str, str]:
    return ("-inf" if since is None else repr(since), "+inf" if until is None else repr(until))


def _matching(
    letters: list[DeadLetter], destination: str | None, since: float | None, until: float | None
) -> list[DeadLetter]:
    return sorted(
        (
            letter
            for letter in letters
            if (destination is None or letter.delivery.destination == destination)
            and (since is None or letter.dead_at >= since)
            and (until is None or letter.dead_at <= until)
        ),
        key=lambda letter: letter.dead_at,
    )


def dead_letter_id(delivery: QueuedDelivery) -> str:
    return f"{delivery.destination}:{delivery.event_id}"


class DeadLetterStore:
    """Dead letters in Redis: a hash of records and a time index."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def add_to(self, pipe: Any, delivery: QueuedDelivery, reason: str, *, now: float | None = None) -> str:
        """Queue the commands storing ``delivery`` on pipeline ``pipe``; returns the letter's id."""
        letter = DeadLetter(dead_letter_id(delivery), time.time() if now is None else now, reason, delivery)
        pipe.hset(self._keys.dead_letters, letter.id, letter.to_json())
        pipe.zadd(self._keys.dead_letter_index, {letter.id: letter.dead_at})
        return letter.id

    async def add(self, delivery: QueuedDelivery, reason: str) -> str:
        """Store ``delivery`` as dead; returns its id."""
        async with self._redis.pipeline(transaction=True) as pipe:
            letter_id = self.add_to(pipe, delivery, reason)
            await pipe.execute()
        return letter_id

    async def get(self, letter_id: str) -> DeadLetter | None:
        raw = await self._redis.hget(self._keys.dead_letters, letter_id)
        return DeadLetter.from_json(raw) if raw is not None else None

    async def select(
        self,
        *,
        ids: Iterable[str] = (),
        destination: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[DeadLetter]:
        """Letters oldest first: the given ``ids``, or all, narrowed by destination and time range."""
        wanted = list(ids)
        if not wanted:
            wanted = [
                text(i)
                for i in await self._redis.zrangebyscore(self._keys.dead_letter_index, *_bounds(since, until))
            ]
        if not wanted:
            return []
        rows = await self._redis.hmget(self._keys.dead_letters, wanted)
        letters = _matching(
            [DeadLetter.from_json(r) for r in rows if r is not None], destination, since, until
        )
        return letters[:limit] if limit is not None else letters

    async def count(self) -> int:
        return int(await self._redis.hlen(self._keys.dead_letters))

    async def count_between(self, since: float | None, until: float | None) -> int:
        """How many letters died in the time range (an upper bound for a destination's share)."""
        return int(await self._redis.zcount(self._keys.dead_letter_index, *_bounds(since, until)))

    async def batches(
        self,
        *,
        batch_size: int,
        ids: Iterable[str] = (),
        destination: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
        consuming: bool = False,
    ) -> AsyncIterator[list[DeadLetter]]:
        """The letters :meth:`select` would return, oldest first, at most ``batch_size`` at a time.

        ``consuming``: the caller removes each yielded batch before asking for the next (replay,
        purge), so the walk does not skip past letters that moved up. Letters that die while the
        walk runs (``until`` is capped at its start) are not included: a replayed letter that
        fails again cannot be replayed twice by one run.
        """
        remaining = limit
        if ids:
            wanted = list(dict.fromkeys(ids))
            for start in range(0, len(wanted), batch_size):
                rows = await self._redis.hmget(self._keys.dead_letters, wanted[start : start + batch_size])
                batch = _matching(
                    [DeadLetter.from_json(r) for r in rows if r is not None], destination, since, until
                )
                batch = batch[:remaining] if remaining is not None else batch
                if batch:
                    yield batch
                if remaining is not None and (remaining := remaining - len(batch)) <= 0:
                    return
            return
        low, high = _bounds(since, min(until, time.time()) if until is not None else time.time())
        offset = 0  # index entries in range that stay behind (another destination's, or not consuming)
        while remaining is None or remaining > 0:
            page = [
                text(i)
                for i in await self._redis.zrangebyscore(
                    self._keys.dead_letter_index, low, high, start=offset, num=batch_size
                )
            ]
            if not page:
                return
            rows = await self._redis.hmget(self._keys.dead_letters, page)
            found = [DeadLetter.from_json(r) for r in rows if r is not None]
            batch = _matching(found, destination, None, None)
            batch = batch[:remaining] if remaining is not None else batch
            if remaining is not None:
                remaining -= len(batch)
            if consuming:
                # An index entry without a record (an orphan) goes too, so the walk moves on.
                if len(found) < len(page):
                    kept = {letter.id for letter in found}
                    await self._redis.zrem(self._keys.dead_letter_index, *[i for i in page if i not in kept])
                offset += len(found) - len(batch)
            else:
                offset += len(page)
            if batch:
                yield batch

    async def replay(self, letters: Iterable[DeadLetter]) -> int:
        """Schedule each letter's event for immediate delivery (fresh attempt log) and remove it."""
        letters = list(letters)
        if not letters:
            return 0
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._keys.retry, {letter.delivery.fresh().to_wire(): now for letter in letters})
            pipe.hdel(self._keys.dead_letters, *[letter.id for letter in letters])
            pipe.zrem(self._keys.dead_letter_index, *[letter.id for letter in letters])
            await pipe.execute()
        return len(letters)

    async def purge(self, letters: Iterable[DeadLetter]) -> int:
        """Delete letters for good; returns how many."""
        ids = [letter.id for letter in letters]
        if not ids:
            return 0
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._keys.dead_letters, *ids)
            pipe.zrem(self._keys.dead_letter_index, *ids)
            await pipe.execute()
        return len(ids)
