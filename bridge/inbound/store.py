"""Receiver state: idempotency records, seen signatures and command status.

:class:`RedisCommandStore` is the production store (receivers are stateless and
share it). :class:`MemoryCommandStore` keeps the same contract inside one process
(for ``gws-bridge run``/``demo`` without Redis, and for the benchmark).

Idempotency: :meth:`claim` reserves ``(client, key)`` for one request. It
returns ``None`` when the caller should go ahead, the stored reply when the
same request already completed, and raises a :class:`Problem` when the same
key is in flight (409) or was used for a different command (422).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from redis.exceptions import NoScriptError, RedisError

from bridge.config.keys import DEFAULT_KEYS, InboundKeys
from bridge.delivery.ratelimit import TAKE_SCRIPT
from bridge.inbound.problems import Problem
from bridge.redis_client import RedisSource, async_redis

__all__ = ["CommandStore", "MemoryCommandStore", "RedisCommandStore", "StoredReply"]

_PENDING_TTL = 60.0  # a claim whose request died is freed after this
_TAKE_SHA = hashlib.sha1(TAKE_SCRIPT.encode()).hexdigest()
#: KEYS[1] the command's record, KEYS[2] the index of recent commands; ARGV record, ttl (ms),
#: score, id, how many ids the index keeps. One command instead of SET + ZADD + ZREMRANGEBYRANK.
SAVE_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[5]) - 1)
return 1
"""
_SAVE_SHA = hashlib.sha1(SAVE_SCRIPT.encode()).hexdigest()
#: KEYS[1] the client's bucket, KEYS[2] the idempotency record; ARGV rate, burst, pending record,
#: its ttl (ms) -> {granted, wait, the record already there or false}. The rate limit first (the
#: token bucket of TAKE_SCRIPT, one token); only a request it admits claims its key.
ADMIT_SCRIPT = (
    "local function take()\n"
    + TAKE_SCRIPT.replace("ARGV[3]", "'1'").replace(
        "return {granted, tostring(wait)}", "return granted, wait"
    )
    + "end\n"
    + """
local granted, wait = take()
if granted < 1 then
  return {0, tostring(wait), false}
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then
  return {1, '0', false}
end
return {1, '0', redis.call('GET', KEYS[2])}
"""
)
_ADMIT_SHA = hashlib.sha1(ADMIT_SCRIPT.encode()).hexdigest()


@dataclass(frozen=True)
class StoredReply:
    """A reply kept for idempotent replay."""

    status: int
    body: Any  # the JSON document (an ``orjson.Fragment`` of the bytes sent, when stored)
    headers: dict[str, str]


class CommandStore(Protocol):
    """What the receiver keeps between requests."""

    async def claim(self, client: str, key: str, fingerprint: str) -> StoredReply | None: ...

    async def complete(
        self, client: str, key: str, fingerprint: str, reply: StoredReply, ttl: float
    ) -> None: ...

    async def release(self, client: str, key: str) -> None: ...

    async def first_signature(self, client: str, msg_id: str, stamp: str, ttl: float) -> bool: ...

    async def save_status(self, record: dict[str, Any], ttl: float) -> None: ...

    async def load_status(self, command_id: str) -> dict[str, Any] | None: ...

    async def take_token(self, client: str, rate: float, burst: int) -> float | None:
        """Take one of ``client``'s tokens: 0 when allowed, else seconds until one is free;
        ``None`` when this store cannot tell (the receiver then limits in-process)."""
        ...

    async def admit(
        self, client: str, rate: float, burst: int, key: str, fingerprint: str
    ) -> tuple[float | None, StoredReply | None]:
        """:meth:`take_token`, then (only when it allowed the request) :meth:`claim`, in as few
        round trips as the store can: ``(wait, stored reply)``; raises as :meth:`claim` does."""
        ...

    async def ping(self) -> bool: ...

    async def aclose(self) -> None: ...


def _decide(raw: bytes | None, fingerprint: str) -> StoredReply | None:
    if raw is None:
        return None
    record = orjson.loads(raw)
    if record.get("fp") != fingerprint:
        raise Problem(
            422,
            "this Idempotency-Key was already used for a different command",
            kind="idempotency-key-reused",
        )
    if record.get("state") != "done":
        raise Problem(409, "a request with this Idempotency-Key is still in progress", kind="in-progress")
    reply = record["reply"]
    return StoredReply(reply["status"], reply["body"], reply.get("headers", {}))


def _done(fingerprint: str, reply: StoredReply) -> bytes:
    payload = {"status": reply.status, "body": reply.body, "headers": reply.headers}
    return orjson.dumps({"state": "done", "fp": fingerprint, "reply": payload})


class RedisCommandStore:
    """The command store on Redis (keys under ``{prefix}:in:``, all with a TTL).

    Commands are group-committed: whatever concurrent requests ask for while one
    pipeline is on the wire goes out together in the next one, so a burst of
    commands costs a few round trips instead of three or four each. A status
    save (record + index of recent commands) is one script, so a command costs
    five Redis commands (rate limit, claim, two saves, the stored reply), not nine.
    """

    def __init__(
        self,
        source: RedisSource,
        *,
        keys: InboundKeys = DEFAULT_KEYS.inbound,
        timeout: float = 5.0,
        index_size: int = 2000,
    ) -> None:
        # One deadline per pipeline (``timeout`` s) instead of redis-py's socket_timeout, which
        # arms a timer around every reply read: ~25% of the store's CPU per command.
        self._redis = async_redis(source, socket_connect_timeout=min(2.0, timeout))
        self._keys = keys
        self._timeout = timeout
        self._index_size = index_size  # recent command ids kept for the operator console
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def _call(self, *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        except RedisError as exc:
            raise _unavailable() from exc

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            pipe = self._redis.pipeline(transaction=False)
            for args, _ in batch:
                pipe.execute_command(*args)
            try:
                async with asyncio.timeout(self._timeout):
                    results = await pipe.execute(raise_on_error=False)
            except TimeoutError:  # redis-py drops a connection whose read was cancelled
                results = [RedisError(f"no reply within {self._timeout:g} s")] * len(batch)
            except (RedisError, OSError) as exc:
                error = exc if isinstance(exc, RedisError) else RedisError(str(exc))
                results = [error] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(
                        result if isinstance(result, RedisError) else RedisError(str(result))
                    )
                else:
                    future.set_result(result)

    async def claim(self, client: str, key: str, fingerprint: str) -> StoredReply | None:
        name = self._keys.idempotency(client, key)
        pending = orjson.dumps({"state": "pending", "fp": fingerprint})
        if await self._call("SET", name, pending, "NX", "PX", int(_PENDING_TTL * 1000)):
            return None
        return _decide(await self._call("GET", name), fingerprint)

    async def complete(self, client: str, key: str, fingerprint: str, reply: StoredReply, ttl: float) -> None:
        await self._call(
            "SET", self._keys.idempotency(client, key), _done(fingerprint, reply), "PX", int(ttl * 1000)
        )

    async def release(self, client: str, key: str) -> None:
        await self._call("DEL", self._keys.idempotency(client, key))

    async def first_signature(self, client: str, msg_id: str, stamp: str, ttl: float) -> bool:
        name = self._keys.signature(client, msg_id, stamp)
        return bool(await self._call("SET", name, b"1", "NX", "PX", int(ttl * 1000)))

    async def _script(self, sha: str, script: str, *args: Any) -> Any:
        """EVALSHA, or EVAL when Redis does not know the script yet (its first use since Redis started)."""
        try:
            return await self._call("EVALSHA", sha, *args)
        except Problem as exc:
            if not isinstance(exc.__cause__, NoScriptError):
                raise
            return await self._call("EVAL", script, *args)

    async def save_status(self, record: dict[str, Any], ttl: float) -> None:
        """Store the record; its id joins the bounded index of recent commands (one script)."""
        await self._script(
            _SAVE_SHA, SAVE_SCRIPT, 2, self._keys.command(record["id"]), self._keys.command_index,
            orjson.dumps(record), int(ttl * 1000), repr(time.time()), record["id"], self._index_size,
        )  # fmt: skip

    async def load_status(self, command_id: str) -> dict[str, Any] | None:
        raw = await self._call("GET", self._keys.command(command_id))
        return orjson.loads(raw) if raw is not None else None

    async def take_token(self, client: str, rate: float, burst: int) -> float | None:
        try:
            granted, wait = await self._script(
                _TAKE_SHA, TAKE_SCRIPT, 1, self._keys.rate(client), repr(rate), burst, 1
            )
        except Problem:  # Redis away: the receiver falls back to its own limiter
            return None
        return 0.0 if int(granted) else float(wait)

    async def admit(
        self, client: str, rate: float, burst: int, key: str, fingerprint: str
    ) -> tuple[float | None, StoredReply | None]:
        """One script: the rate limit, and the claim of a request it admits (one round trip)."""
        pending = orjson.dumps({"state": "pending", "fp": fingerprint})
        granted, wait, existing = await self._script(
            _ADMIT_SHA, ADMIT_SCRIPT, 2, self._keys.rate(client), self._keys.idempotency(client, key),
            repr(rate), burst, pending, int(_PENDING_TTL * 1000),
        )  # fmt: skip
        if not int(granted):
            return float(wait), None
        return 0.0, _decide(existing or None, fingerprint)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await self._redis.ping())
        except (RedisError, TimeoutError):
            return False

    async def aclose(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._redis.aclose()


def _unavailable() -> Problem:
    return Problem(503, "the receiver's state store (Redis) is unavailable", kind="store-unavailable")


class MemoryCommandStore:
    """The same contract in one process; entries expire lazily."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}

    def _get(self, name: str) -> bytes | None:
        entry = self._data.get(name)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._data[name]
            return None
        return entry[1]

    def _set(self, name: str, value: bytes, ttl: float) -> None:
        if len(self._data) > 100_000:
            now = time.monotonic()
            self._data = {k: v for k, v in self._data.items() if v[0] >= now}
        self._data[name] = (time.monotonic() + ttl, value)

    async def claim(self, client: str, key: str, fingerprint: str) -> StoredReply | None:
        name = f"idem:{client}:{key}"
        raw = self._get(name)
        if raw is None:
            self._set(name, orjson.dumps({"state": "pending", "fp": fingerprint}), _PENDING_TTL)
            return None
        return _decide(raw, fingerprint)

    async def complete(self, client: str, key: str, fingerprint: str, reply: StoredReply, ttl: float) -> None:
        self._set(f"idem:{client}:{key}", _done(fingerprint, reply), ttl)

    async def release(self, client: str, key: str) -> None:
        self._data.pop(f"idem:{client}:{key}", None)

    async def first_signature(self, client: str, msg_id: str, stamp: str, ttl: float) -> bool:
        name = f"sig:{client}:{msg_id}:{stamp}"
        if self._get(name) is not None:
            return False
        self._set(name, b"1", ttl)
        return True

    async def save_status(self, record: dict[str, Any], ttl: float) -> None:
        self._set(f"cmd:{record['id']}", orjson.dumps(record), ttl)

    async def load_status(self, command_id: str) -> dict[str, Any] | None:
        raw = self._get(f"cmd:{command_id}")
        return orjson.loads(raw) if raw is not None else None

    async def take_token(self, client: str, rate: float, burst: int) -> float | None:
        return None  # one process: the receiver's own limiter is exact

    async def admit(
        self, client: str, rate: float, burst: int, key: str, fingerprint: str
    ) -> tuple[float | None, StoredReply | None]:
        return None, None  # the receiver limits in-process first, then claims

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._data.clear()
