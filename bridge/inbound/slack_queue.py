"""``/queue [NAME]``: a queue's current figures, answered at once from the statistics poller's
snapshot in Redis (``keys.stats``, :func:`bridge.gws.statistics.read_snapshots`) — no GWS call.

NAME is an object id or display name of ``[[statistics]]`` (any case); without one, every queue.
The answer is ephemeral (only the asker sees it) and rendered like the Slack wallboard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.keys import Keys
from bridge.gws.statistics import read_snapshots
from connectors.slack_wallboard_blocks import render_wallboard

__all__ = ["queue_reply"]


def _ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks is not None:
        body["blocks"] = blocks
    return body


async def queue_reply(redis: Redis | None, keys: Keys, text: str) -> dict[str, Any]:
    """The Slack response body for ``/queue text``."""
    if redis is None:
        return _ephemeral(':warning: Queue figures need the Redis store ([inbound] store = "redis").')
    try:
        snapshots = await read_snapshots(redis, keys)
    except RedisError:
        return _ephemeral(":warning: The queue figures cannot be read right now; try again.")
    wanted = " ".join(text.split()).lower()
    chosen = [
        snapshot
        for object_id, snapshot in sorted(snapshots.items(), key=lambda item: str(item[1].get("name")))
        if not wanted or wanted in (object_id.lower(), str(snapshot.get("name", "")).lower())
    ]
    if not chosen:
        known = ", ".join(sorted(str(s.get("name") or k) for k, s in snapshots.items())) or "none yet"
        name = text.strip()[:80]
        if not name:
            return _ephemeral("No queue figures yet (is [[statistics]] configured and a subscriber up?).")
        return _ephemeral(f"No figures for queue {name!r}. Known queues: {known}.")
    newest = max(int(s.get("read_at") or 0) for s in chosen)
    updated = datetime.fromtimestamp(newest / 1000, UTC) if newest else None
    title = str(chosen[0].get("name")) if wanted else "Queues"
    message = render_wallboard(chosen, title=title, updated=updated)
    return _ephemeral(message.text, message.blocks)
