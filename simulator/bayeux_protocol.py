"""Bayeux 1.0 message handling, independent of the transport.

``BayeuxProtocol.process(messages, user, pusher)`` takes one request batch (a
list of message objects from a long-poll POST or a websocket frame) from an
authenticated user and returns a :class:`Reply`; ``render(reply)`` serializes
it with the messages queued for the client, at the moment the transport sends
it (so a reply that is never sent takes nothing from the queue).

A lone ``/meta/connect`` is held until a message arrives for the session
(long-polling), the session ends, a newer connect of the same client arrives,
or the timeout passes: the client's ``advice.timeout`` when it sends one, the
server's otherwise. A connect batched with other messages, a session's first
connect and one that finds messages queued are answered at once. A batch with a
handshake is answered for the handshake only (Bayeux 1.0: the server MUST ignore
the other messages).

Every connect reply and every error reply carries advice (``reconnect``,
``interval``, ``timeout``). Error strings follow CometD (``code:args:message``):
``402::Unknown client`` with ``reconnect: handshake``; ``400`` for a malformed
request (a handshake without ``version`` or ``supportedConnectionTypes``, a
connect without a known ``connectionType``: ``reconnect: none``); ``403`` for
another user's client or a forbidden channel; ``405`` for an invalid channel.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from simulator.bayeux_batch import Message, encode_batch
from simulator.bayeux_channels import SubscriptionIndex, is_valid_channel, is_valid_subscription
from simulator.bayeux_session import BayeuxSession, EndReason, Pusher

__all__ = ["CONNECTION_TYPES", "BayeuxProtocol", "Reply"]

logger = logging.getLogger("simulator.bayeux")

CONNECTION_TYPES = ("long-polling", "websocket")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


@dataclass(slots=True)
class Reply:
    """The answer to one batch: its reply messages, and the session whose queued messages go with it."""

    messages: list[Message]
    session: BayeuxSession | None = None


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

    # -- replies --------------------------------------------------------------------------------

    def _advice(self, reconnect: str = "retry") -> Message:
        # interval 0: aiocometd sleeps `interval` *seconds* (not ms) before reconnecting.
        return {"reconnect": reconnect, "interval": 0, "timeout": int(self.long_poll_timeout * 1000)}

    @staticmethod
    def _reply(message: Message, channel: str, **fields: Any) -> Message:
        reply: Message = {"channel": channel, **fields}
        if "id" in message:
            reply["id"] = message["id"]
        return reply

    def _failure(
        self, message: Message, channel: str, error: str, *, reconnect: str = "retry", **fields: Any
    ) -> Message:
        """An unsuccessful reply; ``reconnect`` is ``retry`` (nothing wrong with the session),
        ``handshake`` (the session is gone) or ``none`` (retrying cannot help)."""
        return self._reply(
            message, channel, successful=False, error=error, advice=self._advice(reconnect), **fields
        )

    def render(self, reply: Reply) -> tuple[bytes, list[bytes]]:
        """``(payload, events)``: the reply with the session's queued messages first (taken from its
        queue, counted as delivered). A transport that then fails to send gives them back
        with :meth:`undeliver`."""
        session = reply.session
        events = session.drain() if session is not None and session.ended is None else []
        self.delivered += len(events)
        return encode_batch(events, reply.messages), events

    def undeliver(self, session: BayeuxSession, events: list[bytes]) -> None:
        """Put ``events`` that could not be sent back in front of ``session``'s queue."""
        self.delivered -= len(events)
        self.dropped += session.requeue(events)

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

    def publish(self, channel: str, data: Any, user: str | None, ext: Message | None = None) -> int:
        """Queue ``{"channel", "data"[, "ext"]}`` for the subscribers of ``user`` (None: everyone)."""
        subscribers = self.index.subscribers(channel, user)
        if not subscribers:
            return 0
        message: Message = {"channel": channel, "data": data}
        if ext is not None:
            message["ext"] = ext
        serialized = _dumps(message)
        self.published += 1
        for session in subscribers:
            if not session.enqueue(serialized):
                self.dropped += 1
        return len(subscribers)

    # -- one batch ------------------------------------------------------------------------------

    async def process(self, messages: list[Any], user: str, pusher: Pusher | None = None) -> Reply | None:
        """Handle one request batch from ``user``; ``pusher`` is the websocket it came on (None:
        long-polling), which then gets the client's messages at once.

        Returns None when the batch was a connect that a newer connect of the same client
        superseded while it was held: it gets no Bayeux reply.
        """
        now = asyncio.get_running_loop().time()
        for message in messages:
            if isinstance(message, dict) and message.get("channel") == "/meta/handshake":
                return Reply([self._handshake(message, user, now)])
        replies: list[Message] = []
        connect: tuple[Message, Message, BayeuxSession] | None = None
        delivering: BayeuxSession | None = None
        for message in messages:
            if not isinstance(message, dict):
                replies.append(self._failure({}, "", "400::Message is not an object"))
                continue
            channel = message.get("channel")
            if not isinstance(channel, str) or not channel:
                replies.append(self._failure(message, "", "400::Missing channel"))
                continue
            session = self._session_for(message, channel, user, replies)
            if session is None:
                continue
            session.last_seen = now
            session.pusher = pusher
            if delivering is None:
                delivering = session
            if channel == "/meta/connect":
                reply = self._connect(message, session)
                replies.append(reply)
                if reply["successful"]:
                    connect = (message, reply, session)
            elif channel == "/meta/subscribe":
                replies.append(self._subscribe(message, session, subscribe=True))
            elif channel == "/meta/unsubscribe":
                replies.append(self._subscribe(message, session, subscribe=False))
            elif channel == "/meta/disconnect":
                self.remove(session, EndReason.DISCONNECTED)
                replies.append(self._reply(message, channel, successful=True, clientId=session.client_id))
            elif channel.startswith("/meta/"):
                replies.append(self._failure(message, channel, f"400:{channel}:Unknown meta channel"))
            elif not is_valid_channel(channel):
                replies.append(self._failure(message, channel, f"405:{channel}:Invalid channel"))
            else:
                # GWS publishes, clients only listen (on /service/** as well).
                replies.append(self._failure(message, channel, f"403:{channel}:Publish denied"))
        if connect is not None and not await self._finish_connect(*connect, alone=len(messages) == 1):
            return None
        return Reply(replies, delivering)

    def _session_for(
        self, message: Message, channel: str, user: str, replies: list[Message]
    ) -> BayeuxSession | None:
        client_id = message.get("clientId")
        session = self.sessions.get(client_id) if isinstance(client_id, str) else None
        if session is None:
            replies.append(self._failure(message, channel, "402::Unknown client", reconnect="handshake"))
            return None
        if session.user != user:
            logger.warning("cometd client used by another user", extra={"owner": session.user, "user": user})
            replies.append(
                self._failure(message, channel, "403::Client belongs to another user", reconnect="handshake")
            )
            return None
        return session

    def _handshake(self, message: Message, user: str, now: float) -> Message:
        channel = "/meta/handshake"
        version = message.get("version")
        offered = message.get("supportedConnectionTypes")
        if not isinstance(version, str) or not version:
            return self._failure(message, channel, "400::Missing version", reconnect="none", version="1.0")
        ours = {"version": "1.0", "supportedConnectionTypes": list(CONNECTION_TYPES)}
        if not isinstance(offered, list) or not offered:
            error = "400::Missing supportedConnectionTypes"
            return self._failure(message, channel, error, reconnect="none", **ours)
        if not set(offered) & set(CONNECTION_TYPES):
            error = f"301:{','.join(map(str, offered))}:Unsupported connection types"
            return self._failure(message, channel, error, reconnect="none", **ours)
        if len(self.sessions) >= self.max_clients or self.closing:
            refused = "503::Server closing" if self.closing else "503::Too many clients"
            return self._failure(message, channel, refused, reconnect="none")
        client_id = secrets.token_hex(16)
        self.sessions[client_id] = BayeuxSession(client_id, user, max_queue=self.max_queue, now=now)
        logger.debug("cometd handshake", extra={"user": user, "clients": len(self.sessions)})
        # No `ext` in the reply: the server negotiates no extension (the ack extension stays off).
        return self._reply(
            message, channel, successful=True, version="1.0", minimumVersion="1.0",
            supportedConnectionTypes=list(CONNECTION_TYPES), clientId=client_id, advice=self._advice(),
        )  # fmt: skip

    def _connect(self, message: Message, session: BayeuxSession) -> Message:
        channel = "/meta/connect"
        connection_type = message.get("connectionType")
        if connection_type not in CONNECTION_TYPES:
            if connection_type is None:
                return self._failure(message, channel, "400::Missing connectionType", reconnect="none")
            return self._failure(
                message, channel, f"400:{connection_type}:Unsupported connectionType", reconnect="none"
            )
        # No clientId in the reply, as in GWS's samples (003: the /meta/connect replies).
        return self._reply(message, channel, successful=True, advice=self._advice())

    def _subscribe(self, message: Message, session: BayeuxSession, *, subscribe: bool) -> Message:
        channel = "/meta/subscribe" if subscribe else "/meta/unsubscribe"
        requested = message.get("subscription")
        patterns: list[Any] = requested if isinstance(requested, list) else [requested]
        fields: dict[str, Any] = {"clientId": session.client_id, "subscription": requested}
        if not patterns:
            return self._failure(message, channel, "400::Missing subscription", **fields)
        for pattern in patterns:
            if not is_valid_subscription(pattern):
                return self._failure(message, channel, f"405:{pattern}:Invalid channel", **fields)
            if str(pattern).startswith("/meta/"):
                return self._failure(message, channel, f"403:{pattern}:Forbidden channel", **fields)
        for pattern in map(str, patterns):
            if subscribe:
                session.subscriptions.add(pattern)
                self.index.add(pattern, session.user, session)
            else:
                session.subscriptions.discard(pattern)
                self.index.discard(pattern, session.user, session)
        return self._reply(message, channel, successful=True, **fields)

    def _hold_seconds(self, message: Message) -> float:
        """How long to hold this connect: the client's ``advice.timeout`` (ms), else the server's."""
        advice = message.get("advice")
        timeout = advice.get("timeout") if isinstance(advice, dict) else None
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout >= 0:
            return timeout / 1000
        return self.long_poll_timeout

    async def _finish_connect(
        self, message: Message, reply: Message, session: BayeuxSession, *, alone: bool
    ) -> bool:
        """Hold the connect if it should be; False when a newer connect superseded it."""
        seconds = self._hold_seconds(message)
        if alone and seconds > 0 and session.connected and not session.queue and session.ended is None:
            if not await session.hold(seconds):
                return False
        session.connected = True
        if session.ended is not None and session.ended is not EndReason.SHUTDOWN:
            if session.ended is EndReason.DISCONNECTED:
                reply.update(
                    self._failure(message, "/meta/connect", "402::Client disconnected", reconnect="none")
                )
            else:
                error = "402::Unknown client"
                reply.update(self._failure(message, "/meta/connect", error, reconnect="handshake"))
        return True
