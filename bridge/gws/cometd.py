"""The CometD side of an agent session: the aiocometd client and the GWS auth extension.

``CometdClient`` is the aiocometd client on an aiohttp session that the agent
session owns, with a non-blocking ``receive_queued`` and a clean ``abandon``.
``GwsExtension`` adds the agent's credentials to every Bayeux request and tells
its :class:`ConnectionEvents` (the agent session) about re-handshakes, reconnects
and refused sessions. This is the one module that uses aiocometd-noloop's private
parts (``tests/unit/gws/test_cometd_adapter.py`` pins the release and checks them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import orjson
from aiocometd_noloop import AuthExtension, Client
from aiocometd_noloop.constants import TransportState
from aiocometd_noloop.exceptions import ClientInvalidOperation, ServerError, TransportTimeoutError

if TYPE_CHECKING:
    from bridge.gws.rest import GwsRestClient

__all__ = ["CometdClient", "ConnectionEvents", "GwsExtension", "json_dumps"]

_HEADERS_TTL = 10.0  # seconds the CometD auth headers are reused without looking at the cookie jar


class CometdClient(Client):
    """The aiocometd client on an aiohttp session that we own (shared connector)."""

    def __init__(self, url: str, http_session: aiohttp.ClientSession, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._http_session = http_session
        # receive(): the transport they watch, and the two watches that outlive one call
        self._watched: object | None = None
        self._server_disconnect: asyncio.Future[None] | None = None
        self._connection_lost: asyncio.Future[None] | None = None

    async def _get_http_session(self) -> aiohttp.ClientSession:
        return self._http_session

    async def _close_http_session(self) -> None:
        # The session belongs to AgentSession, which closes it (and skips the 250 ms sleep).
        return None

    async def close(self) -> None:
        self._stop_following_advice()
        try:
            await super().close()
        finally:
            self._stop_watching()

    async def receive(self) -> dict[str, Any]:
        """The next message: what aiocometd's ``receive`` returns, with one task per wait instead of four.

        aiocometd starts three tasks per call (the queue, the server's disconnect, the connection
        timeout) and cancels two of them; here a queued message returns at once, and the two
        watches live as long as the transport, so a wait costs one task. The same outcomes:
        ``ServerError`` (and the client closed) when the server ended the session,
        ``TransportTimeoutError`` when the transport could not reconnect within
        ``connection_timeout``, ``ClientInvalidOperation`` when closed with nothing queued.
        """
        message = self.receive_queued()
        if message is not None:
            return message
        if self.closed:
            raise ClientInvalidOperation("The client is closed and there are no pending messages.")
        queue, transport = self._incoming_queue, self._transport
        assert queue is not None and transport is not None
        if self._watched is not transport:
            self._stop_watching()
            self._watched = transport
        if self._server_disconnect is None:
            self._server_disconnect = asyncio.ensure_future(
                transport.wait_for_state(TransportState.SERVER_DISCONNECTED)
            )
        if self._connection_lost is None and self.connection_timeout:
            lost = self._wait_connection_timeout(self.connection_timeout)
            self._connection_lost = asyncio.ensure_future(lost)
        get = asyncio.ensure_future(queue.get())
        watches = [w for w in (self._server_disconnect, self._connection_lost) if w is not None]
        try:
            await asyncio.wait([get, *watches], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            get.cancel()
            raise
        if get.done():
            message = get.result()
            self._verify_response(message)
            return message
        get.cancel()
        if self._server_disconnect.done():
            self._stop_watching()
            await self.close()
            raise ServerError("Connection closed by the server", transport.last_connect_result)
        self._connection_lost = None  # done: the next receive watches afresh, as aiocometd's does
        raise TransportTimeoutError("Lost connection with the server.")

    def _stop_watching(self) -> None:
        for watch in (self._server_disconnect, self._connection_lost):
            if watch is not None and not watch.done():
                watch.cancel()
        self._server_disconnect = self._connection_lost = None
        self._watched = None

    def receive_queued(self) -> dict[str, Any] | None:
        """The next message already received, without waiting; ``None`` when none is queued.

        What ``receive()`` returns when messages are pending, without the three
        tasks it creates per call; raises ``ServerError`` for an unsuccessful reply.
        """
        queue = self._incoming_queue
        if queue is None or queue.empty():
            return None
        message: dict[str, Any] = queue.get_nowait()
        self._verify_response(message)
        return message

    def abandon(self) -> None:
        """Stop the long-poll without telling the server (when a polite close failed or timed out)."""
        task = self._stop_following_advice()
        if task is not None:
            task.cancel()
        self._stop_watching()

    def _stop_following_advice(self) -> asyncio.Future[Any] | None:
        """Make sure a closing client schedules no further connect; returns the running connect task.

        aiocometd chains each ``/meta/connect`` from the done-callback of the previous one. A
        connect that finished just before ``close()`` still has that callback queued; run late,
        it would mark the closed transport connected and start polling again (a zombie client),
        and a cancelled connect makes it raise ``CancelledError`` into asyncio's error log.
        """
        transport = self._transport
        if transport is None:
            return None
        transport._follow_advice = _no_follow_up  # shadows the method on this instance only
        task: asyncio.Future[Any] | None = getattr(transport, "_connect_task", None)
        if task is None or task.done():
            return None
        task.remove_done_callback(transport._connect_done)
        return task


def _no_follow_up(reconnect_advice: str, reconnect_timeout: float | None) -> None:
    return None


class ConnectionEvents(Protocol):
    """What :class:`GwsExtension` tells about the CometD connection it watches."""

    def cometd_connected(self) -> None:
        """A ``/meta/connect`` succeeded."""

    def cometd_lost(self, reason: str) -> None:
        """A ``/meta/connect`` failed or got no reply; ``reason`` says how."""

    def cometd_needs_recovery(self, reason: str) -> None:
        """Notifications may have been missed: ``"reconnect"`` after a gap, ``"re-handshake"``
        once every re-subscription is confirmed, ``"re-subscribe to … failed: …"`` when refused."""

    async def relogin(self, reason: str) -> None:
        """Log in again (GWS refused the Bayeux session); raises ``GwsError``."""


class GwsExtension(AuthExtension):
    """Adds the agent's credentials to every Bayeux request; reports re-handshakes and reconnects.

    ``rest``: the agent's REST client, whose session (cookie, CSRF token) CometD shares.
    ``subscriptions``: the channels the client subscribes to (re-subscribed after a
    re-handshake). ``events``: told what happens to the connection.
    """

    def __init__(self, rest: GwsRestClient, subscriptions: Sequence[str], events: ConnectionEvents) -> None:
        self._rest = rest
        self._subscriptions = tuple(subscriptions)
        self._events = events
        self._handshakes = 0
        # After a re-handshake: the channels whose re-subscription GWS has not confirmed yet
        # (None: no re-subscription under way).
        self._resubscribing: set[str] | None = None
        self._connect_outstanding = False
        self._gap = False
        self._headers: dict[str, str] = {}
        self._headers_key: tuple[Any, ...] | None = None
        self._headers_until = 0.0

    def _auth_headers(self) -> dict[str, str]:
        # Building the headers filters the cookie jar (~0.2 ms); a long-poll renewal needs them
        # every few seconds per agent. A new GWS session always brings a new CSRF token, so the
        # token (and the login state) key the cache; the short expiry covers CSRF-less setups.
        rest = self._rest
        key = (rest.logged_in, rest.csrf)
        now = time.monotonic()
        if key != self._headers_key or now >= self._headers_until:
            self._headers = rest.cometd_headers()
            self._headers_key = key
            self._headers_until = now + _HEADERS_TTL
        return self._headers

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers.update(self._auth_headers())
        for message in payload:
            if message.get("channel") == "/meta/connect":
                if self._connect_outstanding:  # the previous connect got no reply: transport error
                    self._gap = True
                    self._events.cometd_lost("cometd connect failed")
                self._connect_outstanding = True

    async def incoming(self, payload: list[dict[str, Any]], headers: Any = None) -> None:
        """Watch the meta replies (runs before aiocometd handles them).

        After a re-handshake, recovery is requested only once GWS has confirmed every
        re-subscription (aiocometd sends them with its next ``/meta/connect``): GWS replays
        nothing, so a state read before that could miss what GWS published in between to a
        client that was not subscribed yet — neither the snapshot nor a notification would
        carry it.
        """
        for message in payload:
            channel = message.get("channel")
            if channel == "/meta/handshake" and message.get("successful"):
                self._handshakes += 1
                self._gap = False
                if self._handshakes > 1:
                    self._resubscribing = set(self._subscriptions)
            elif channel == "/meta/subscribe" and self._resubscribing is not None:
                subscription = message.get("subscription")
                if message.get("successful"):
                    self._resubscribing.discard(subscription)
                else:
                    self._resubscribing = None
                    error = str(message.get("error") or "refused")
                    self._events.cometd_needs_recovery(f"re-subscribe to {subscription} failed: {error}")
            elif channel == "/meta/connect":
                self._connect_outstanding = False
                if message.get("successful"):
                    if self._gap:
                        self._gap = False
                        self._events.cometd_needs_recovery("reconnect")
                    self._events.cometd_connected()
                else:
                    self._gap = True
                    self._events.cometd_lost(str(message.get("error") or "connect refused"))
        if self._resubscribing is not None and not self._resubscribing:
            self._resubscribing = None
            self._events.cometd_needs_recovery("re-handshake")

    async def authenticate(self) -> None:
        await self._events.relogin("cometd refused the session")


def json_dumps(value: Any) -> str:
    """``value`` as JSON text (orjson), for aiohttp's ``json_serialize``."""
    return orjson.dumps(value).decode()
