"""One Bayeux client session on the server: its owner, subscriptions and bounded queue.

A session is created by ``/meta/handshake`` and lives until the client
disconnects, the server drops it, or it stops connecting for longer than the
session timeout. Messages published for it wait in a bounded queue (oldest
dropped first, counted) until a ``/meta/connect`` takes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from enum import Enum

__all__ = ["BayeuxSession", "EndReason"]

logger = logging.getLogger("simulator.bayeux")

# Log the first drop of a session, then one line per this many drops.
_DROP_LOG_EVERY = 1000


class EndReason(str, Enum):
    """Why a session ended; decides what a connect held at that moment is told."""

    DISCONNECTED = "disconnected"  # the client sent /meta/disconnect
    DROPPED = "dropped"  # the server dropped it (disconnect_all): re-handshake
    EXPIRED = "expired"  # no connect for longer than the session timeout
    SHUTDOWN = "shutdown"  # the server is closing


class BayeuxSession:
    """Server-side state of one ``clientId``; only the event loop thread touches it."""

    __slots__ = (
        "client_id",
        "connected",
        "dropped_messages",
        "ended",
        "last_seen",
        "max_queue",
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
        # The future a held /meta/connect waits on; None when no connect is held.
        self.waiter: asyncio.Future[None] | None = None
        self.last_seen = now
        # False until the first /meta/connect, which is answered at once (as CometD does).
        self.connected = False
        self.dropped_messages = 0
        self.ended: EndReason | None = None

    def enqueue(self, message: bytes) -> bool:
        """Queue one serialized message and wake a held connect.

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
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self, reason: EndReason) -> None:
        """Mark the session over and answer its held connect."""
        if self.ended is None:
            self.ended = reason
        self.queue.clear()
        self.wake()

    async def hold(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a message or the end of the session.

        A newer connect for the same session answers the older one first, so at
        most one connect is held per session.
        """
        self.wake()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiter = waiter
        timer = loop.call_later(seconds, _settle, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if self.waiter is waiter:
                self.waiter = None
            self.last_seen = loop.time()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
