"""Admission of a command: the client's rate limit and the at-most-once run per Idempotency-Key.

:class:`Admission` is the receiver's last two steps before a command reaches GWS. The shared
token bucket lives in the command store (Redis); when the store holds none (the memory store, or
Redis away) this process's :class:`~bridge.inbound.ratelimit.RateLimiter` decides. With an
Idempotency-Key the token and the claim are one store round trip (:meth:`CommandStore.admit`),
and the stored reply is replayed to every later request with the same key and body.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import orjson

from bridge.commands import Command
from bridge.config.inbound import InboundClient
from bridge.errors import CommandError
from bridge.inbound.http import InboundResponse
from bridge.inbound.problems import Problem, problem_for_command_error
from bridge.inbound.ratelimit import RateLimiter
from bridge.inbound.store import CommandStore, StoredReply

__all__ = ["Admission", "Perform"]

Perform = Callable[[InboundClient, Command], Awaitable[InboundResponse]]


def _fingerprint(command: Command) -> str:
    canonical = orjson.dumps(
        {"agent": command.agent, "action": command.action, "params": command.params},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


class Admission:
    """``take_token`` (429 when the client is over its rate) and ``run_once``."""

    def __init__(self, store: CommandStore, *, idempotency_ttl: float) -> None:
        self._store = store
        self._limiter = RateLimiter()
        self._ttl = idempotency_ttl

    def _refuse_if_limited(self, client: InboundClient, wait: float | None) -> None:
        """429 when the shared bucket said ``wait`` > 0; ``None`` (no shared bucket: memory store,
        or Redis away) asks this process's own limiter."""
        if wait is None:
            wait = self._limiter.acquire(client.name, client.rate_limit, client.burst)
        if wait > 0:
            raise Problem(
                429,
                f"rate limit of {client.rate_limit:g}/s exceeded",
                kind="rate-limited",
                headers={"Retry-After": RateLimiter.retry_after_header(wait)},
            )

    async def take_token(self, client: InboundClient) -> None:
        """Take one of ``client``'s tokens; :class:`Problem` 429 when none is left."""
        self._refuse_if_limited(
            client, await self._store.take_token(client.name, client.rate_limit, client.burst)
        )

    async def run_once(
        self, client: InboundClient, command: Command, perform: Perform, *, rate_limit: bool = False
    ) -> InboundResponse:
        """Run ``perform`` at most once per ``(client, Idempotency-Key)``; replay the stored reply after.

        ``rate_limit``: take the client's token first, with the claim (one store round trip), and
        answer 429 without claiming when it is refused (only with an ``Idempotency-Key``)."""
        key = command.idempotency_key
        if key is None:
            response = await perform(client, command)
            if response.durable is not None:
                await response.durable
            return response
        fingerprint = _fingerprint(command)
        stored = await (self._admit if rate_limit else self._claim)(client, key, fingerprint)
        if stored is not None:
            headers = dict(stored.headers, **{"Idempotent-Replayed": "true"})
            return InboundResponse(
                stored.status, orjson.dumps(stored.body), headers.pop("Content-Type"), headers
            )
        try:
            response = await perform(client, command)
        except Problem as problem:
            if problem.kind == "store-unavailable":
                await self._store.release(client.name, key)
                raise
            response = InboundResponse.problem(problem)
        except CommandError as exc:
            response = InboundResponse.problem(problem_for_command_error(exc))
        except BaseException:
            await self._store.release(client.name, key)
            raise
        reply = StoredReply(
            response.status,
            orjson.Fragment(response.body),  # stored as sent: the body is JSON already
            dict(response.headers, **{"Content-Type": response.content_type}),
        )
        complete = self._store.complete(client.name, key, fingerprint, reply, self._ttl)
        if response.durable is None:
            await complete
            return response
        # The status record and the stored reply in one round trip; neither failing goes unseen.
        saved, completed = await asyncio.gather(response.durable, complete, return_exceptions=True)
        if isinstance(saved, BaseException):  # as when the save failed inside perform: free the key
            await self._store.release(client.name, key)
            raise saved
        if isinstance(completed, BaseException):
            raise completed
        return response

    async def _claim(self, client: InboundClient, key: str, fingerprint: str) -> StoredReply | None:
        return await self._store.claim(client.name, key, fingerprint)

    async def _admit(self, client: InboundClient, key: str, fingerprint: str) -> StoredReply | None:
        """The token and the claim in one round trip (429 without claiming when refused)."""
        try:
            wait, stored = await self._store.admit(
                client.name, client.rate_limit, client.burst, key, fingerprint
            )
        except Problem as problem:
            if problem.kind == "store-unavailable":  # as take_token would: limit in-process, then 503
                self._refuse_if_limited(client, None)
            raise
        self._refuse_if_limited(client, wait)
        if wait is None:  # the store holds no bucket: claimed apart, after this process's limiter
            return await self._claim(client, key, fingerprint)
        return stored
