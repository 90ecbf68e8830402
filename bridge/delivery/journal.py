"""The batch journal: unordered batches live in Redis until their outcomes are recorded.

Why: a Celery message on the Redis transport can vanish. kombu pops it with
``BRPOP`` and only then writes it to its ``unacked`` hash (``QoS.append``), so a
worker SIGKILLed in between, or one that dies with popped bytes still unread in
its socket buffer, loses the message for good (kombu#305, celery#4354);
``acks_late`` and ``reject_on_worker_lost`` cannot help with a message the
broker no longer holds. The ordered path never had the hole, because its
events wait in Redis and a sweep re-kicks forgotten subjects; this gives
unordered batches the same property.

How:

- The enqueuer writes each batch here (``HSET`` of its wires, ``ZADD`` of a
  deadline ``now + batch_lease``) in the same ``MULTI`` as any FIFO adds, and
  only then publishes a Celery task that carries the batch *id*, not the events.
- The task :meth:`BatchJournal.begin` s the batch: it takes a run lease
  (``SET NX PX``) and reads the wires. A batch already finished (a duplicate
  message) or running elsewhere (lease held) is skipped, so extra messages are harmless.
- The batch's outcomes (retries scheduled, dead letters) and its removal from
  the journal are one ``MULTI`` (:meth:`BatchJournal.complete_to`): recorded
  implies finished, and finished implies recorded.
- Every worker's poller calls :meth:`BatchJournal.claim_abandoned`: a Lua
  script takes batches whose deadline passed and whose run lease is gone,
  pushes their deadline forward (so only one worker re-publishes them) and
  returns their ids; the worker publishes a task for each. A worker that dies
  after claiming loses nothing: the deadline passes again.

A redelivered batch keeps its events' ids, hence their ``webhook-id`` s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any

from redis.asyncio import Redis

from bridge.config.keys import Keys

__all__ = ["BatchJournal", "BatchState", "batch_destination", "new_batch_id"]

_BEGIN = """
-- KEYS: journal, due, run; ARGV: id, now, lease (s), token
local wires = redis.call('HGET', KEYS[1], ARGV[1])
if not wires then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {0}
end
local lease = tonumber(ARGV[3])
if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', math.max(math.floor(lease * 1000), 1)) then
  return {1}
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + lease, ARGV[1])
return {2, wires}
"""

_CLAIM = """
-- KEYS: journal, due; ARGV: now, lease (s), limit, run-key prefix
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  if redis.call('HEXISTS', KEYS[1], id) == 0 then
    redis.call('ZREM', KEYS[2], id)
  else
    local ttl = redis.call('PTTL', ARGV[4] .. id)
    if ttl > 0 then  -- still running: look again when its lease ends
      redis.call('ZADD', KEYS[2], now + ttl / 1000, id)
    else
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
      table.insert(out, id)
    end
  end
end
return out
"""

_RELEASE = """
-- KEYS: run; ARGV: token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class BatchState(str, Enum):
    """What :meth:`BatchJournal.begin` found."""

    FINISHED = "finished"  # not in the journal: already done (this message is a duplicate)
    BUSY = "busy"  # another worker holds the run lease
    STARTED = "started"  # this caller holds the lease and has the wires


def new_batch_id(destination: str) -> str:
    """A fresh, unique batch id that names its destination (``<destination>/<hex>``)."""
    return f"{destination}/{uuid.uuid4().hex}"


def batch_destination(batch_id: str) -> str:
    """The destination part of a :func:`new_batch_id` id."""
    return batch_id.rpartition("/")[0]


class BatchJournal:
    """Unordered batches not yet finished, shared by every producer and worker.

    Assumes one Redis (not a cluster): the claim script reads run-lease keys it
    builds from the batch ids.
    """

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._begin = redis.register_script(_BEGIN)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    def add_to(self, pipe: Any, batch_id: str, wires: Sequence[str], *, lease: float, now: float) -> None:
        """Queue on ``pipe`` the commands journaling ``wires`` as ``batch_id``, due at ``now + lease``.

        Wires are compact JSON (``QueuedDelivery.to_wire``), which never contains a raw newline.
        """
        pipe.hset(self._keys.journal, batch_id, "\n".join(wires))
        pipe.zadd(self._keys.journal_due, {batch_id: now + lease})

    async def begin(self, batch_id: str, token: str, *, lease: float) -> tuple[BatchState, list[str]]:
        """Take ``batch_id``'s run lease for ``lease`` seconds and return its wires.

        ``FINISHED`` and ``BUSY`` come with no wires; the caller must then do nothing.
        """
        reply = await self._begin(
            keys=[self._keys.journal, self._keys.journal_due, self._keys.journal_run(batch_id)],
            args=[batch_id, repr(time.time()), repr(lease), token],
        )
        code = int(reply[0])
        if code == 0:
            return BatchState.FINISHED, []
        if code == 1:
            return BatchState.BUSY, []
        raw = reply[1]
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return BatchState.STARTED, text.split("\n") if text else []

    def complete_to(self, pipe: Any, batch_id: str) -> None:
        """Queue on ``pipe`` the removal of ``batch_id`` (in the transaction that records its outcomes)."""
        pipe.hdel(self._keys.journal, batch_id)
        pipe.zrem(self._keys.journal_due, batch_id)
        pipe.delete(self._keys.journal_run(batch_id))

    async def release(self, batch_id: str, token: str) -> None:
        """Give up the run lease (the task failed and is requeued); the batch stays journaled."""
        await self._release(keys=[self._keys.journal_run(batch_id)], args=[token])

    async def claim_abandoned(self, *, limit: int, lease: float, now: float | None = None) -> list[str]:
        """Ids of up to ``limit`` batches past their deadline with no live run lease.

        Their deadlines move to ``now + lease`` in the same script, so another
        worker's sweep does not claim them too; the caller publishes a task for each.
        """
        now = time.time() if now is None else now
        ids = await self._claim(
            keys=[self._keys.journal, self._keys.journal_due],
            args=[repr(now), repr(lease), limit, self._keys.journal_run("")],
        )
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    async def depth(self) -> int:
        """How many batches are journaled (queued, running, or waiting to be re-published)."""
        return int(await self._redis.zcard(self._keys.journal_due))

    async def ids(self) -> list[str]:
        """Every journaled batch id (for tests and diagnostics; O(n))."""
        return [
            i.decode() if isinstance(i, bytes) else str(i)
            for i in await self._redis.zrange(self._keys.journal_due, 0, -1)
        ]
