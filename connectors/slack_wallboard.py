"""The Slack wallboard: ONE message per channel, updated in place, showing every statistics
object's latest figures (``stats.updated`` events); see ``wallboard`` in :mod:`connectors.slack`.

Each event's figures are stored in the Redis hash ``slack:wallboard-figures:{channel}`` (object
id -> JSON, the newest sequence wins: every change of a record is one optimistic transaction, so
concurrent retries never put an older reading over a newer one). Updates are coalesced: at most
one ``chat.update`` per ``wallboard_interval`` seconds per channel, through a slot key every worker
shares. An event that finds the slot taken is retried when it frees up, unless by then a newer
event of its object has arrived or the board already shows it (those return at once: many events,
one update).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import WatchError

from bridge.config.keys import SlackKeys
from bridge.errors import RetryableDeliveryError
from bridge.events import Event
from connectors.slack_blocks import SlackMessage
from connectors.slack_wallboard_blocks import render_wallboard

__all__ = ["Wallboard"]

Post = Callable[[SlackMessage], Awaitable[str]]
Update = Callable[[str, SlackMessage], Awaitable[bool]]  # False: the message is gone
Record = dict[str, Any]
# (stored record or None, sequence the board shows or None) -> the record to store, or None
Change = Callable[[Record | None, int | None], Record | None]

_CONFLICTS = 50  # transactions retried before the event is handed back to the delivery layer


class Wallboard:
    def __init__(self, redis: Redis, keys: SlackKeys, channel: str, *, interval: float, title: str) -> None:
        self._redis = redis
        self._channel = channel
        self._ts_key = keys.wallboard(channel)
        self._figures_key = keys.wallboard_figures(channel)
        self._shown_key = keys.wallboard_shown(channel)
        self._slot_key = keys.wallboard_slot(channel)
        self._interval_ms = max(1, int(interval * 1000))
        self._title = title

    async def _change(self, object_id: str, change: Change) -> bool:
        """Apply ``change`` to the object's record atomically (WATCH, retried on a conflict);
        False when it declined."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(_CONFLICTS):
                try:
                    await pipe.watch(self._figures_key, self._shown_key)
                    raw = await pipe.hget(self._figures_key, object_id)
                    shown = await pipe.hget(self._shown_key, object_id)
                    record = change(orjson.loads(raw) if raw else None, int(shown) if shown else None)
                    if record is None:
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    pipe.hset(self._figures_key, object_id, orjson.dumps(record))
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        raise RetryableDeliveryError(f"wallboard of {self._channel} is busy", retry_after=0.05)

    async def _store(self, event: Event) -> bool:
        """Keep the event's figures unless newer ones are stored or shown; False when stale."""

        def newer(record: Record | None, shown: int | None) -> Record | None:
            if record is not None and record.get("sequence", 0) > event.sequence:
                return None
            if shown is not None and shown >= event.sequence:
                return None
            kept = record.get("breached") if record is not None else None
            return {**event.data, "sequence": event.sequence, "breached": kept or []}

        return await self._change(str(event.data.get("object_id")), newer)

    async def mark(self, event: Event, post: Post, update: Update) -> None:
        """Note a threshold crossing on the board; redraw it now if the slot is free (else the
        next update shows it)."""
        object_id = str(event.data.get("object_id"))
        threshold = str(event.data.get("threshold"))

        def marked(record: Record | None, _shown: int | None) -> Record:
            record = record or {"object_id": object_id, "values": {}}
            breached = set(record.get("breached") or [])
            (breached.add if event.data.get("breached") else breached.discard)(threshold)
            record.setdefault("name", event.data.get("name"))
            return {**record, "breached": sorted(breached)}

        await self._change(object_id, marked)
        if await self._redis.set(self._slot_key, b"1", nx=True, px=self._interval_ms):
            await self._draw(event, post, update)

    async def show(self, event: Event, post: Post, update: Update) -> None:
        """Put the event's figures on the board (coalesced; see the module docstring)."""
        if not await self._store(event):
            return
        if not await self._redis.set(self._slot_key, b"1", nx=True, px=self._interval_ms):
            wait = await self._redis.pttl(self._slot_key)
            raise RetryableDeliveryError(
                f"wallboard of {self._channel} updated moments ago", retry_after=max(wait, 50) / 1000
            )
        await self._draw(event, post, update)

    async def _draw(self, event: Event, post: Post, update: Update) -> None:
        raw = await self._redis.hgetall(self._figures_key)
        boards = sorted((orjson.loads(v) for v in raw.values()), key=lambda b: str(b.get("name")))
        message = render_wallboard(boards, title=self._title, updated=event.time)
        ts = await self._redis.get(self._ts_key)
        if ts is None:
            await self._redis.set(self._ts_key, await post(message))
        elif not await update(ts.decode() if isinstance(ts, bytes) else str(ts), message):
            await self._redis.set(self._ts_key, await post(message))  # deleted in Slack: post anew
        shown = {str(b.get("object_id")): str(int(b.get("sequence", 0))) for b in boards}
        if shown:
            await self._redis.hset(self._shown_key, mapping=shown)  # type: ignore[arg-type]
