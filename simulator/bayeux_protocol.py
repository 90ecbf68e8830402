"""Bayeux 1.0 message handling, independent of the transport.

``BayeuxProtocol.process(messages, user)`` takes one request batch (a list of
message objects from a long-poll POST or a websocket frame) from an
authenticated user and returns the serialized reply batch. A lone
``/meta/connect`` is held until a message arrives for the session or the
long-poll timeout passes; a connect batched with other messages, a session's
first connect, and a connect that asks for ``advice.timeout: 0`` are answered
at once.

Error strings follow CometD (``code:args:message``): ``402::Unknown client``
(with ``advice.reconnect = handshake``), ``403`` for another user's client or
a forbidden channel, ``400``/``405`` for malformed messages and channels.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

import orjson

from simulator.bayeux_channels import SubscriptionIndex, is_valid_subscription
from simulator.bayeux_session import BayeuxSession, EndReason

__all__ = ["CONNECTION_TYPES", "BayeuxProtocol", "encode_batch"]

logger = logging.getLogger("simulator.bayeux")

CONNECTION_TYPES = ("long-polling", "websocket")

Message = dict[str, Any]


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


def encode_batch(events: list[bytes], replies: list[Message]) -> bytes:
    """One JSON array: the pre-serialized events first, then the meta replies (as GWS sends them)."""
    parts = events + [_dumps(reply) for reply in replies]
    return b"[" + b",".join(parts) + b"]"


class BayeuxProtocol:
    """Sessions, subscriptions and the Bayeux meta channels; no IO of its own."""

    def __init__(
        self,
        *,
        long_poll_timeout: float,
        session_timeout: float,
        max_queue: int,
        max_clients: int,
    ) -> None:
        self.long_poll_timeout = long_poll_timeout
        self.session_timeout = session_timeout
        self.max_queue = max_queue
        self.max_clients = max_clients
        self.sessions: dict[str, BayeuxSession] = {}
        self.index: SubscriptionIndex[BayeuxSession] = SubscriptionIndex()
        self.closing = False
        self.published = 0
        self.delivered = 0
        self.dropped = 0

    # -- advice -------------------------------------------------------------------------------

    def _advice(self, reconnect: str = "retry") -> Message:
        # interval 0: aiocometd sleeps `interval` *seconds* (not ms) before reconnecting.
        return {"reconnect": reconnect, "interval": 0, "timeout": int(self.long_poll_timeout * 1000)}

    @staticmethod
    def _reply(message: Message, channel: str, **fields: Any) -> Message:
        reply: Message = {"channel": channel, **fields}
        if "id" in message:
            reply["id"] = message["id"]
        return reply

    def _unknown_client(self, message: Message, channel: str) -> Message:
        return self._reply(
            message, channel, successful=False, error="402::Unknown client",
            advice={"reconnect": "handshake", "interval": 0},
        )  # fmt: skip

    # -- sessions -------------------------------------------------------------------------------

    def remove(self, session: BayeuxSession, reason: EndReason) -> None:
        """Forget ``session`` and its subscriptions; a held connect is answered."""
        if self.sessions.pop(session.client_id, None) is None:
            return
        self.index.discard_all(session.subscriptions, session.user, session)
        session.subscriptions.clear()
        session.end(reason)
        logger.debug("cometd session ended", extra={"user": session.user, "reason": reason.value})

    def expire(self, now: float) -> int:
        """Remove sessions that hold no connect and were silent for longer than the session timeout."""
        stale = [
            session
            for session in self.sessions.values()
            if session.waiter is None and now - session.last_seen > self.session_timeout
        ]
        for session in stale:
            self.remove(session, EndReason.EXPIRED)
        return len(stale)

    def publish(self, channel: str, data: Any, user: str | None) -> int:
        """Queue ``{"channel", "data"}`` for the matching subscribers of ``user`` (None: everyone)."""
        subscribers = self.index.subscribers(channel, user)
        if not subscribers:
            return 0
        message = _dumps({"channel": channel, "data": data})
        self.published += 1
        for session in subscribers:
            if not session.enqueue(message):
                self.dropped += 1
        return len(subscribers)

    # -- one batch ------------------------------------------------------------------------------

    async def process(
        self, messages: list[Any], user: str, still_connected: Callable[[], bool] | None = None
    ) -> bytes:
        """Handle one request batch from ``user``; returns the reply batch (a JSON array).

        ``still_connected`` tells whether the requester can still receive the reply: after a held
        connect, queued messages stay queued for the next connect when it says False.
        """
        now = asyncio.get_running_loop().time()
        replies: list[Message] = []
        connect: tuple[Message, Message, BayeuxSession] | None = None
        for message in messages:
            if not isinstance(message, dict):
                replies.append({"channel": "", "successful": False, "error": "400::Message is not an object"})
                continue
            channel = message.get("channel")
            if channel == "/meta/handshake":
                replies.append(self._handshake(message, user, now))
                continue
            if not isinstance(channel, str) or not channel:
                replies.append(self._reply(message, "", successful=False, error="400::Missing channel"))
                continue
            session = self._session_for(message, channel, user, replies)
            if session is None:
                continue
            session.last_seen = now
            if channel == "/meta/connect":
                reply = self._reply(
                    message, channel, successful=True, clientId=session.client_id, advice=self._advice()
                )
                replies.append(reply)
                connect = (message, reply, session)
            elif channel == "/meta/subscribe":
                replies.append(self._subscribe(message, session, subscribe=True))
            elif channel == "/meta/unsubscribe":
                replies.append(self._subscribe(message, session, subscribe=False))
            elif channel == "/meta/disconnect":
                self.remove(session, EndReason.DISCONNECTED)
                replies.append(self._reply(message, channel, successful=True, clientId=session.client_id))
            elif channel.startswith("/meta/"):
                error = f"400:{channel}:Unknown meta channel"
                replies.append(self._reply(message, channel, successful=False, error=error))
            else:
                # GWS publishes, clients only listen.
                error = f"403:{channel}:Publish denied"
                replies.append(self._reply(message, channel, successful=False, error=error))
        events: list[bytes] = []
        if connect is not None:
            events = await self._finish_connect(*connect, alone=len(messages) == 1)
            if events and still_connected is not None and not still_connected():
                self.dropped += connect[2].requeue(events)
                self.delivered -= len(events)
                events = []
        return encode_batch(events, replies)

    def _session_for(
        self, message: Message, channel: str, user: str, replies: list[Message]
    ) -> BayeuxSession | None:
        client_id = message.get("clientId")
        session = self.sessions.get(client_id) if isinstance(client_id, str) else None
        if session is None:
            if not channel.startswith("/meta/"):
                replies.append(self._reply(message, channel, successful=False, error="402::Unknown client"))
            else:
                replies.append(self._unknown_client(message, channel))
            return None
        if session.user != user:
            logger.warning("cometd client used by another user", extra={"owner": session.user, "user": user})
            advice = {"reconnect": "handshake", "interval": 0}
            error = "403::Client belongs to another user"
            replies.append(self._reply(message, channel, successful=False, error=error, advice=advice))
            return None
        return session

    def _handshake(self, message: Message, user: str, now: float) -> Message:
        channel = "/meta/handshake"
        offered = message.get("supportedConnectionTypes")
        if isinstance(offered, list) and not set(offered) & set(CONNECTION_TYPES):
            return self._reply(
                message, channel, successful=False, version="1.0",
                supportedConnectionTypes=list(CONNECTION_TYPES),
                error=f"301:{','.join(map(str, offered))}:Unsupported connection types",
                advice={"reconnect": "none"},
            )  # fmt: skip
        if len(self.sessions) >= self.max_clients or self.closing:
            refused = "503::Server closing" if self.closing else "503::Too many clients"
            advice = {"reconnect": "none"}
            return self._reply(message, channel, successful=False, error=refused, advice=advice)
        client_id = secrets.token_hex(16)
        self.sessions[client_id] = BayeuxSession(client_id, user, max_queue=self.max_queue, now=now)
        logger.debug("cometd handshake", extra={"user": user, "clients": len(self.sessions)})
        return self._reply(
            message, channel, successful=True, version="1.0", minimumVersion="1.0",
            supportedConnectionTypes=list(CONNECTION_TYPES), clientId=client_id, advice=self._advice(),
        )  # fmt: skip

    def _subscribe(self, message: Message, session: BayeuxSession, *, subscribe: bool) -> Message:
        channel = "/meta/subscribe" if subscribe else "/meta/unsubscribe"
        requested = message.get("subscription")
        patterns: list[Any] = requested if isinstance(requested, list) else [requested]
        if not patterns:
            return self._reply(
                message, channel, successful=False, clientId=session.client_id, subscription=requested,
                error="400::Missing subscription",
            )  # fmt: skip
        for pattern in patterns:
            if not is_valid_subscription(pattern):
                return self._reply(
                    message, channel, successful=False, clientId=session.client_id, subscription=requested,
                    error=f"405:{pattern}:Invalid channel",
                )  # fmt: skip
            if str(pattern).startswith("/meta/"):
                return self._reply(
                    message, channel, successful=False, clientId=session.client_id, subscription=requested,
                    error=f"403:{pattern}:Forbidden channel",
                )  # fmt: skip
        for pattern in map(str, patterns):
            if subscribe:
                session.subscriptions.add(pattern)
                self.index.add(pattern, session.user, session)
            else:
                session.subscriptions.discard(pattern)
                self.index.discard(pattern, session.user, session)
        return self._reply(
            message, channel, successful=True, clientId=session.client_id, subscription=requested
        )

    async def _finish_connect(
        self, message: Message, reply: Message, session: BayeuxSession, *, alone: bool
    ) -> list[bytes]:
        advice = message.get("advice")
        wants_hold = not (isinstance(advice, dict) and advice.get("timeout") == 0)
        if alone and wants_hold and session.connected and not session.queue and session.ended is None:
            await session.hold(self.long_poll_timeout)
        session.connected = True
        if session.ended is not None and session.ended is not EndReason.SHUTDOWN:
            reply.pop("clientId", None)
            reply["successful"] = False
            if session.ended is EndReason.DISCONNECTED:
                reply["error"] = "402::Client disconnected"
                reply["advice"] = {"reconnect": "none", "interval": 0}
            else:
                reply["error"] = "402::Unknown client"
                reply["advice"] = {"reconnect": "handshake", "interval": 0}
            return []
        events = session.drain()
        self.delivered += len(events)
        return events
