"""Where the normalizer's state lives between messages and across subscribers: Redis.

:class:`RedisStateStore` persists a :class:`~bridge.normalize.state.MemoryState` as one hash per
agent and keeps the sequence guarantee described in :mod:`bridge.normalize.state` (the epoch
fence). The normalizer itself stays pure; this IO lives with the sessions that use it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

import orjson
import redis.asyncio
import redis.exceptions

from bridge.config.keys import DEFAULT_KEYS
from bridge.normalize.state import EPOCH_BLOCK, MemoryState, StaleStateError, StateChanges, StateStoreError

__all__ = ["MasterChangedError", "RedisStateStore", "StateStore"]

logger = logging.getLogger(__name__)


class MasterChangedError(StateStoreError):
    """A save reached another Redis master than the previous one: a failover came between.

    The save itself is done (on the new master); what the caller handed on before it went to the
    old master and may be lost with it, so the caller hands it on again and saves again.
    """


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
# WAITs per pipeline while replicas are online but behind, before the saves go on unconfirmed.
_WAIT_ROUNDS = 10


class RedisStateStore:
    """Production persistence of :class:`MemoryState`: one Redis hash per agent.

    Hash ``<prefix><agent>``: ``v:<subject>`` → JSON value, ``q:<subject>`` →
    sequence counter, ``floor`` → retired-counter floor, ``epoch`` → number of
    loads so far (the fence; see the module docstring).

    Saves group-commit: the saves of all agents waiting at one moment (the sessions of a
    subscriber share one store) go to Redis in one pipeline, one script each, while the
    previous pipeline is in flight the next ones gather. Each ``save`` still returns only once
    its own script succeeded, and raises what its own script raised.

    With ``wait_replicas`` (``[redis_sentinel]``), each pipeline ends in ``WAIT wait_replicas
    wait_timeout``: a save returns once that many replicas hold it — and so everything the
    subscriber wrote before it, the events of the messages it saves for (one master, one
    replication stream). A failover then cannot take back a save whose message counted as
    handled. Each such pipeline also reads the master's replication id: a save that reached
    another master than the previous one (the client reconnects by itself, to the promoted
    replica) raises :class:`MasterChangedError`, since the events handed on before it may have
    stayed on the old master. While replicas are online but behind, the pipeline is sent again and waited for
    again (up to 10 rounds of ``wait_timeout``). When fewer than ``wait_replicas`` replicas are
    online (none left after a failover, one resyncing), none of them can be promoted holding
    less than this master: the saves return without the confirmation — availability over
    waiting — with a warning, and for ``recheck`` seconds the pipelines skip the WAIT, so a
    master without a replica costs one timeout per ``recheck``, not one per save.
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
        self._wait_replicas = wait_replicas
        self._wait_ms = max(1, round(wait_timeout * 1000))
        self._recheck = recheck
        self._unconfirmed_until = 0.0  # monotonic time until which pipelines skip the WAIT
        self._replid: str | None = None  # the master's replication id at the last pipeline
        self.unconfirmed_saves = 0  # saves that returned without the replicas' confirmation
        self.master_changes = 0  # failovers noticed between two pipelines

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
                if self._wait_replicas and self._replid is None:
                    pipe.info("replication")  # the master the first saves are compared with
                epoch, raw, *replication = await pipe.execute()
            if replication and self._replid is None:
                self._replid = str(replication[0].get("master_replid", ""))
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
        if not self._wait_replicas:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, args, _ in batch:
                    pipe.evalsha(self._script.sha, 1, key, *args)
                return list(await pipe.execute(raise_on_error=False))
        for attempt in range(_WAIT_ROUNDS):
            wait = time.monotonic() >= self._unconfirmed_until
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, args, _ in batch:
                    pipe.evalsha(self._script.sha, 1, key, *args)
                if wait:  # same connection as the scripts: WAIT covers this client's writes so far
                    pipe.wait(self._wait_replicas, self._wait_ms)
                pipe.info("replication")
                results = list(await pipe.execute(raise_on_error=False))
            replication = _raised(results.pop())
            confirmed = _raised(results.pop()) if wait else 0
            self._same_master(replication)
            if not wait:
                self.unconfirmed_saves += len(batch)
                return results
            if confirmed >= self._wait_replicas:
                return results
            online = _online_replicas(replication)
            if online < self._wait_replicas:
                break  # no replica could be promoted with these saves missing: go on
            # Replicas are online but behind: a failover now would promote one without these
            # saves. Send them again (the script is idempotent) and WAIT again.
            logger.info(
                "replicas behind: %d of %d confirmed a state save in %d ms (round %d); waiting again",
                confirmed, self._wait_replicas, self._wait_ms, attempt + 1,
                extra={"confirmed": confirmed, "online": online, "saves": len(batch)},
            )  # fmt: skip
        self.unconfirmed_saves += len(batch)
        self._unconfirmed_until = time.monotonic() + self._recheck
        logger.warning(
            "%d of %d replicas confirmed a state save within %d ms (%d online); saves go on unconfirmed "
            "and WAIT again in %.0f s",
            confirmed, self._wait_replicas, self._wait_ms, online, self._recheck,
            extra={"confirmed": confirmed, "online": online, "saves": len(batch)},
        )  # fmt: skip
        return results

    def _same_master(self, replication: dict[str, Any]) -> None:
        """Raise :class:`MasterChangedError` when this pipeline reached another master than the last.

        The client reconnects by itself (redis-py retries a pipeline after a connection error), so
        a save can land on the promoted replica while the events handed on just before it went to
        the old master and may not have been replicated: the caller must hand them on again.
        """
        replid = str(replication.get("master_replid", ""))
        known, self._replid = self._replid, replid
        if known is not None and replid != known:
            self.master_changes += 1
            raise MasterChangedError(
                "the Redis master changed (a failover) since the last state save; "
                "the events before this save may be lost with the old master"
            )


def _raised(result: Any) -> Any:
    if isinstance(result, Exception):
        raise result
    return result


def _online_replicas(replication: dict[str, Any]) -> int:
    """Replicas the master streams to (``INFO replication``: ``slaveN`` with ``state=online``)."""
    return sum(
        1
        for name, value in replication.items()
        if name.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    )


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
