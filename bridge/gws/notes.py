"""Notes for agent sessions: what the receiver tells the subscriber holding an agent.

Some changes a command makes reach GWS without a notification ever coming back (a disposition
on a released call, 002:5504-5623). The receiver then files a note
(:func:`bridge.normalize.dispositions.disposition_note`) for the agent, and the session that
holds the agent normalizes it like a message: it owns the agent's state, so the note's events
get their ids and sequences by the same rules as everything else the agent does.

Each agent has a Redis list ``{prefix}:notes:{agent}`` (bounded, with a TTL: a note nobody takes
within a day is stale). Filing a note also publishes the agent's name on ``{prefix}:notes``;
the pool listens there and wakes the session, which takes the notes after the message in hand
(and after each recovery, and when the pool's tick finds notes waiting: a missed wake-up only
delays a note). A note counts as handled, and leaves the list, only once its events are handed
on and the state saved.

A note may name the command that filed it (``"command": <id>``): once the note is handled, the
session pushes one item on ``{prefix}:notes:handled:<id>`` (a list with a TTL), and the receiver
that ran the command, blocked on it (:meth:`AgentNotes.wait_handled`), settles it ``succeeded``
(a disposition on a released call, which GWS never confirms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.keys import DEFAULT_KEYS, NoteKeys
from bridge.errors import BridgeError

__all__ = ["AgentNotes", "NotesError"]

logger = logging.getLogger(__name__)


class NotesError(BridgeError):
    """Redis failed while filing or taking notes; the message names the agent and the step."""


def _cancel_requested() -> bool:
    """True when the running task was asked to stop, even if the request's CancelledError was lost."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class AgentNotes:
    """The agents' note lists on ``redis`` (``keep``: most notes kept per agent)."""

    def __init__(
        self, redis: Redis, keys: NoteKeys = DEFAULT_KEYS.notes, *, keep: int = 1000, ttl: int = 86_400
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._keep = keep
        self._ttl = ttl

    async def file(self, agent: str, note: dict[str, Any]) -> None:
        """Append ``note`` to ``agent``'s list and wake its session; raises :class:`NotesError`."""
        key = self._keys.inbox(agent)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, orjson.dumps(note))
                pipe.ltrim(key, -self._keep, -1)
                pipe.expire(key, self._ttl)
                pipe.publish(self._keys.filed, agent)
                await pipe.execute()
        except RedisError as exc:
            raise NotesError(f"filing a note for agent {agent!r} failed: {exc}") from exc

    async def peek(self, agent: str, limit: int = 64) -> list[dict[str, Any]]:
        """The oldest notes of ``agent`` (at most ``limit``), left in the list until :meth:`drop`.

        A note that is not a JSON object is passed on as it is (the normalizer reports it).
        """
        try:
            raw = await self._redis.lrange(self._keys.inbox(agent), 0, limit - 1)
        except RedisError as exc:
            raise NotesError(f"reading the notes of agent {agent!r} failed: {exc}") from exc
        notes: list[dict[str, Any]] = []
        for item in raw:
            try:
                note = orjson.loads(item)
            except orjson.JSONDecodeError:
                text = item.decode(errors="replace") if isinstance(item, bytes) else str(item)
                note = {"unreadable note": text}
            notes.append(note if isinstance(note, dict) else {"unreadable note": note})
        return notes

    async def drop(self, agent: str, count: int) -> None:
        """Remove the ``count`` oldest notes of ``agent`` (the ones :meth:`peek` returned)."""
        try:
            await self._redis.ltrim(self._keys.inbox(agent), count, -1)
        except RedisError as exc:
            raise NotesError(f"removing the notes of agent {agent!r} failed: {exc}") from exc

    async def mark_handled(self, notes: Sequence[dict[str, Any]], *, ttl: int = 600) -> None:
        """Tell the receivers waiting on these notes' commands that they are handled."""
        ids = [note["command"] for note in notes if isinstance(note.get("command"), str)]
        if not ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for command_id in ids:
                    pipe.rpush(self._keys.handled(command_id), b"1")
                    pipe.expire(self._keys.handled(command_id), ttl)
                await pipe.execute()
        except RedisError as exc:
            raise NotesError(f"marking {len(ids)} note(s) handled failed: {exc}") from exc

    async def wait_handled(self, command_id: str, seconds: float) -> bool:
        """True once the note ``command_id`` filed is handled, False after ``seconds`` (or if
        Redis fails: the command then settles as it would without a note)."""
        try:
            reply = await self._redis.blpop([self._keys.handled(command_id)], timeout=max(seconds, 0.01))
        except RedisError as exc:
            logger.warning("waiting for a note failed", extra={"command_id": command_id, "error": str(exc)})
            return False
        return reply is not None

    async def waiting(self, agents: Sequence[str]) -> list[str]:
        """The agents among ``agents`` that have notes waiting (one round trip)."""
        if not agents:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for agent in agents:
                    pipe.llen(self._keys.inbox(agent))
                counts = await pipe.execute()
        except RedisError as exc:
            raise NotesError(f"counting the notes of {len(agents)} agents failed: {exc}") from exc
        return [agent for agent, count in zip(agents, counts, strict=True) if count]

    async def listen(self, on_filed: Callable[[str], None], *, retry_delay: float = 1.0) -> None:
        """Call ``on_filed(agent)`` for every note filed, until cancelled; survives Redis outages
        (a wake-up missed meanwhile is found by :meth:`waiting`)."""
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._keys.filed)
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        on_filed(data.decode(errors="replace"))
            except RedisError as exc:
                if _cancel_requested():
                    # redis-py can turn a cancellation into a RedisError (Redis unreachable: ~1 in 30
                    # cancels); resubscribing then outlived the pool's stop, and the subscriber
                    # its SIGTERM, forever
                    raise asyncio.CancelledError from exc
                logger.warning("note wake-ups interrupted; resubscribing", extra={"error": str(exc)})
            finally:
                # bounded: closing a connection Redis stopped answering must not hang a stop
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), timeout=2.0)
            if _cancel_requested():
                raise asyncio.CancelledError
            await asyncio.sleep(retry_delay)
