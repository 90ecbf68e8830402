"""The Slack wallboard: ONE message per channel, updated in place, showing every statistics
object's latest figures (``stats.updated`` events); see ``wallboard`` in :mod:`connectors.slack`.

Each event's figures are stored in the Redis hash ``slack:wallboard-figures:{channel}`` (object
id -> JSON, the newest sequence wins). Updates are coalesced: at most one ``chat.update`` per
``wallboard_interval`` seconds per channel, through a slot key every worker shares. An event that
finds the slot taken is retried when it frees up, unless by then a newer event of its object has
arrived or the board already shows it (those return at once: many events, one update).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config.keys import SlackKeys
from bridge.errors import RetryableDeliveryError
from bridge.events import Event
from connectors.slack_blocks import SlackMessage
from connectors.slack_wallboard_blocks import render_wallboard

__all__ = ["Wallboard"]

Post = Callable[[SlackMessage], Awaitable[str]]
Update = Callable[[str, SlackMessage], Awaitable[bool]]  # False: the message is gone


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

    async def _store(self, event: Event) -> bool:
        """Keep the event's figures unless newer ones are stored; False when the event is stale."""
        object_id = str(event.data.get("object_id"))
        raw = await self._redis.hget(self._figures_key, object_id)
        if raw is not None and orjson.loads(raw).get("sequence", 0) > event.sequence:
            return False
        shown = await self._redis.hget(self._shown_key, object_id)
        if shown is not None and int(shown) >= event.sequence:
            return False
        kept = orjson.loads(raw).get("breached") if raw is not None else None
        record = {**event.data, "sequence": event.sequence, "breached": kept or []}
        await self._redis.hset(self._figures_key, object_id, orjson.dumps(record))
        return True

    async def mark(self, event: Event, post: Post, update: Update) -> None:
        """Note a threshold crossing on the board; redraw it now if the slot is free (else the
        next update shows it)."""
        object_id = str(event.data.get("object_id"))
        raw = await self._redis.hget(self._figures_key, object_id)
        record: dict[str, Any] = orjson.loads(raw) if raw else {"object_id": object_id, "values": {}}
        breached = set(record.get("breached") or [])
        threshold = str(event.data.get("threshold"))
        (breached.add if event.data.get("breached") else breached.discard)(threshold)
        record["breached"] = sorted(breached)
        record.setdefault("name", event.data.get("name"))
        await self._redis.hset(self._figures_key, object_id, orjson.dumps(record))
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
