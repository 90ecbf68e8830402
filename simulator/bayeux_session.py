"""One Bayeux client session on the server: its owner, subscriptions and bounded queue.

A session is created by ``/meta/handshake`` and lives until the client
disconnects, the server drops it, or it stops connecting for longer than the
session timeout. Messages published for it wait in a bounded queue (oldest
dropped first, counted) until a reply takes them: the held ``/meta/connect`` of
a long-polling client, or — for a client on a websocket — a push on its socket
(its ``pusher``), at once, while its connect stays held.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from enum import Enum
from typing import Protocol

__all__ = ["BayeuxSession", "EndReason", "Pusher"]

logger = logging.getLogger("simulator.bayeux")

# Log the first drop of a session, then one line per this many drops.
_DROP_LOG_EVERY = 1000


class EndReason(str, Enum):
    """Why a session ended; decides what a connect held at that moment is told."""

    DISCONNECTED = "disconnected"  # the client sent /meta/disconnect
    DROPPED = "dropped"  # the server dropped it (disconnect_all): re-handshake
    EXPIRED = "expired"  # no connect for longer than the session timeout
    SHUTDOWN = "shutdown"  # the server is closing


class Pusher(Protocol):
    """Where a session's messages go as soon as they are queued (a websocket)."""

    def push_soon(self, session: BayeuxSession) -> None:
        """Send ``session``'s queued messages shortly, in order with the socket's other frames."""


class BayeuxSession:
    """Server-side state of one ``clientId``; only the event loop thread touches it."""

    __slots__ = (
        "client_id",
        "connected",
        "dropped_messages",
        "ended",
        "last_seen",
        "max_queue",
        "pusher",
        "queue",
        "subscriptions",
        "user",
        "waiter",
    )

    def __init__(self, client_id: str, user: str, *, max_queue: int, now: float) -> None:
        self.client_id = client_id
        self.user = user
        self.subscriptions: set[str] = set()
        self.queue: deque[bytes] = deque()
        self.max_queue = max_queue
        # The future a held /meta/connect waits on (its result: False when a newer connect
        # superseded it); None when no connect is held.
        self.waiter: asyncio.Future[bool] | None = None
        # The websocket this client last spoke on, which gets its messages at once; None on
        # long-polling, where a queued message answers the held connect instead.
        self.pusher: Pusher | None = None
        self.last_seen = now
        # False until the first /meta/connect, which is answered at once (as CometD does).
        self.connected = False
        self.dropped_messages = 0
        self.ended: EndReason | None = None

    def enqueue(self, message: bytes) -> bool:
        """Queue one serialized message; push it (websocket) or answer the held connect (long-polling).

        Returns False when the queue was full and its oldest message was dropped.
        """
        kept = True
        if len(self.queue) >= self.max_queue:
            self.queue.popleft()
            self.dropped_messages += 1
            kept = False
            if self.dropped_messages == 1 or self.dropped_messages % _DROP_LOG_EVERY == 0:
                logger.warning(
                    "cometd queue full, dropped oldest message",
                    extra={
                        "user": self.user,
                        "dropped": self.dropped_messages,
                        "max_queue": self.max_queue,
                    },
                )
        self.queue.append(message)
        if self.pusher is not None:
            self.pusher.push_soon(self)
        else:
            self.wake()
        return kept

    def drain(self) -> list[bytes]:
        """Take every queued message, oldest first."""
        messages = list(self.queue)
        self.queue.clear()
        return messages

    def requeue(self, messages: list[bytes]) -> int:
        """Put undelivered ``messages`` back in front of the queue; returns how many overflowed."""
        self.queue.extendleft(reversed(messages))
        overflow = max(0, len(self.queue) - self.max_queue)
        for _ in range(overflow):
            self.queue.popleft()
        self.dropped_messages += overflow
        return overflow

    def wake(self) -> None:
        """Answer the held connect now (if there is one)."""
        _settle(self.waiter, True)

    def end(self, reason: EndReason) -> None:
        """Mark the session over and answer its held connect."""
        if self.ended is None:
            self.ended = reason
        self.queue.clear()
        self.pusher = None
        self.wake()

    async def hold(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a message (long-polling), the end of the session, or a newer
        connect of the same client.

        Returns False when a newer connect superseded this one (which then gets no Bayeux reply,
        as in CometD); at most one connect is held per session.
        """
        _settle(self.waiter, False)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self.waiter = waiter
        timer = loop.call_later(seconds, _settle, waiter, True)
        try:
            return await waiter
        finally:
            timer.cancel()
            if self.waiter is waiter:
                self.waiter = None
            self.last_seen = loop.time()


def _settle(waiter: asyncio.Future[bool] | None, answered: bool) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(answered)
