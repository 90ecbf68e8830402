"""Where the normalizer's state lives between messages and across subscribers: Redis.

:class:`RedisStateStore` persists a :class:`~bridge.normalize.state.MemoryState` as one hash per
agent and keeps the sequence guarantee described in :mod:`bridge.normalize.state` (the epoch
fence). The normalizer itself stays pure; this IO lives with the sessions that use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import orjson
import redis.asyncio
import redis.exceptions

from bridge.config.keys import DEFAULT_KEYS
from bridge.gws.replica_wait import ROUNDS, MasterChangedError, ReplicaWait
from bridge.normalize.state import EPOCH_BLOCK, MemoryState, StaleStateError, StateChanges, StateStoreError

__all__ = ["MasterChangedError", "RedisStateStore", "StateStore"]

logger = logging.getLogger(__name__)


class StateStore(Protocol):
    """Where an agent's last known state lives between messages and across processes."""

    async def load(self, agent: str) -> Any:
        """The agent's last saved state (a fresh one when none was saved)."""
        ...

    async def save(self, agent: str, state: Any) -> None:
        """Persist ``state``; returns once it is durable."""
        ...


# Save = one Lua script: refuse when another holder loaded the agent since
# (epoch fence), then HSET the changed fields and HDEL the deleted ones.
_SAVE_SCRIPT = """
local stored = redis.call('HGET', KEYS[1], 'epoch')
if ARGV[1] ~= '' and stored and stored ~= ARGV[1] then return 0 end
local nset = tonumber(ARGV[2])
local i = 3
local last = i + 2 * nset - 1
while i <= last do
  local stop = math.min(i + 999, last)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, stop))
  i = stop + 1
end
local n = #ARGV
while i <= n do
  local stop = math.min(i + 999, n)
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, stop))
  i = stop + 1
end
return 1
"""


_Pending = tuple[str, list[Any], "asyncio.Future[Any]"]  # (key, script args, the caller's outcome)


class RedisStateStore:
    """Production persistence of :class:`MemoryState`: one Redis hash per agent.

    Hash ``<prefix><agent>``: ``v:<subject>`` → JSON value, ``q:<subject>`` →
    sequence counter, ``floor`` → retired-counter floor, ``epoch`` → number of
    loads so far (the fence; see the module docstring).

    Saves group-commit: the saves of all agents waiting at one moment (the sessions of a
    subscriber share one store) go to Redis in one pipeline, one script each, while the
    previous pipeline is in flight the next ones gather. Each ``save`` still returns only once
    its own script succeeded, and raises what its own script raised.

    With ``wait_replicas`` (``[redis_sentinel]``) each pipeline also waits for the replicas
    (:class:`~bridge.gws.replica_wait.ReplicaWait`): a save returns once they hold it, and so
    everything the subscriber wrote to that master before it; a save that reached another master
    than the previous one raises :class:`MasterChangedError`.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_KEYS.state,
        wait_replicas: int = 0,
        wait_timeout: float = 0.5,
        recheck: float = 5.0,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SAVE_SCRIPT)
        self._pending: list[_Pending] = []
        self._flushing: asyncio.Task[None] | None = None
        self._replicas = (
            ReplicaWait(wait_replicas, timeout=wait_timeout, recheck=recheck) if wait_replicas else None
        )

    @property
    def replica_wait(self) -> ReplicaWait | None:
        """How saves wait for the replicas (its counters), ``None`` when they do not."""
        return self._replicas

    def key(self, agent: str) -> str:
        """The Redis key holding ``agent``'s state."""
        return self._prefix + agent

    async def load(self, agent: str) -> MemoryState:
        """Take over ``agent``'s state: bumps the epoch; empty state if nothing stored.

        Raises :class:`StateStoreError` when Redis fails.
        """
        key = self.key(agent)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(key, "epoch", 1)
                pipe.hgetall(key)
                if self._replicas is not None:
                    pipe.info("replication")  # the master the first saves are compared with
                epoch, raw, *replication = await pipe.execute()
            if self._replicas is not None:
                self._replicas.first_master(replication[0])
        except redis.exceptions.RedisError as exc:
            raise StateStoreError(f"loading the normalizer state of agent {agent!r} failed: {exc}") from exc
        values: dict[str, dict[str, Any]] = {}
        sequences: dict[str, int] = {}
        retired = 0
        for field_b, value_b in raw.items():
            name = field_b.decode() if isinstance(field_b, bytes) else str(field_b)
            try:
                if name.startswith("v:"):
                    value = orjson.loads(value_b)
                    if isinstance(value, dict):
                        values[name[2:]] = value
                elif name.startswith("q:"):
                    sequences[name[2:]] = int(value_b)
                elif name == "floor":
                    retired = int(value_b)
            except (ValueError, orjson.JSONDecodeError):
                logger.warning("skipping unreadable state field", extra={"agent": agent, "field": name})
        floor = (int(epoch) - 1) * EPOCH_BLOCK
        logger.debug(
            "normalizer state loaded",
            extra={"agent": agent, "epoch": int(epoch), "subjects": len(values)},
        )
        return MemoryState(values, sequences, floor=floor, retired_floor=retired, epoch=int(epoch))

    async def save(self, agent: str, state: MemoryState) -> None:
        """Write what changed since the last load/save of ``state`` (one atomic script).

        Raises :class:`StaleStateError` when another holder loaded ``agent``
        since ``state`` was loaded, :class:`StateStoreError` when Redis fails, and its
        :class:`MasterChangedError` (with ``wait_replicas``) when a failover came since the
        previous save: the caller hands its events on again, then saves again.
        """
        changes = state.changes()
        if not changes:
            return
        pairs: list[Any] = []
        for subject, value in changes.values.items():
            pairs += ("v:" + subject, orjson.dumps(value))
        for subject, counter in changes.sequences.items():
            pairs += ("q:" + subject, counter)
        if changes.floor is not None:
            pairs += ("floor", changes.floor)
        deletions = _deleted_fields(changes.deleted, changes)
        args = ["" if state.epoch is None else str(state.epoch), len(pairs) // 2, *pairs, *deletions]
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieve)
        self._pending.append((self.key(agent), args, done))
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush())
        try:
            ok = await done
        except redis.exceptions.RedisError as exc:
            raise StateStoreError(f"saving the normalizer state of agent {agent!r} failed: {exc}") from exc
        if not ok:
            raise StaleStateError(
                f"normalizer state of agent {agent!r} was loaded by another holder since epoch "
                f"{state.epoch}; this holder's save was refused"
            )
        state.mark_saved(changes)

    async def _flush(self) -> None:
        """Send the pending saves, a pipeline at a time, until none is left."""
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self._run(batch)
                except BaseException as exc:  # Redis failed (or we are cancelled): every caller hears it
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(
                                exc if isinstance(exc, Exception) else StateStoreError("cancelled")
                            )
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, _, done), result in zip(batch, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self._flushing = None

    async def _run(self, batch: list[_Pending]) -> list[Any]:
        """One EVALSHA per save in one pipeline; the script is loaded (once) when Redis lacks it."""
        results = await self._evalsha(batch)
        missing = [
            i for i, result in enumerate(results) if isinstance(result, redis.exceptions.NoScriptError)
        ]
        if missing:
            await self._redis.script_load(_SAVE_SCRIPT)
            again = await self._evalsha([batch[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def _evalsha(self, batch: list[_Pending]) -> list[Any]:
        rounds = 0
        while True:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, args, _ in batch:
                    pipe.evalsha(self._script.sha, 1, key, *args)
                if self._replicas is None:
                    return list(await pipe.execute(raise_on_error=False))
                waited = self._replicas.add_to(pipe)  # same connection as the scripts
                results = list(await pipe.execute(raise_on_error=False))
            rounds += 1
            if not self._replicas.again(results, waited=waited, saves=len(batch), last=rounds >= ROUNDS):
                return results


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a save's failure as seen when its caller stopped waiting (cancelled)."""
    if not future.cancelled():
        future.exception()


def _deleted_fields(deleted: Iterable[str], changes: StateChanges) -> list[str]:
    fields: list[str] = []
    for subject in deleted:
        if subject not in changes.values:
            fields.append("v:" + subject)
        if subject not in changes.sequences:
            fields.append("q:" + subject)
    return fields
