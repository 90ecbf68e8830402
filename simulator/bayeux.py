"""The simulator's CometD server: Bayeux 1.0 over long-polling and websocket, on aiohttp.

GWS serves its notifications at ``/api/v2/notifications``; this is that
endpoint, and — as a CometD server mapped to ``…/notifications/*`` — every path
below it (the official JavaScript client appends ``/handshake``, ``/connect``,
``/subscribe``… by default). ``POST`` carries a JSON array of Bayeux messages
(long-polling) and gets a JSON array back; ``GET`` with ``Upgrade: websocket``
opens a socket on which each text frame is such an array and each reply is one
frame. On a websocket, messages published for the client are pushed at once in
frames of their own while its ``/meta/connect`` stays held (as CometD does).

Every request is authenticated by the ``Authenticator`` the simulator passes
in: it returns the user, or raises an aiohttp HTTP error (401, 403) that is
sent as it is. The user of the handshake owns the ``clientId``; later requests
from another user are refused. ``publish(channel, data, user=...)`` queues a
message for that user's subscribed clients only (``user=None``: every
subscribed client), in O(matching subscribers of that user).

Websocket close codes: 1011 for a frame that is not a JSON batch (as CometD),
1003 for a binary frame, 1009 for a frame over 1 MiB, 1001 when the server
shuts down. A connect superseded by a newer connect of the same client gets no
Bayeux reply: HTTP 408 on long-polling (as CometD 3.0 does), nothing on a
websocket.

Memory stays bounded: a client that stops connecting for longer than
``session_timeout`` is removed, and each client's queue keeps at most
``max_queue`` messages (the oldest are dropped and counted in ``stats()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.bayeux_batch import parse_batch
from simulator.bayeux_protocol import BayeuxProtocol, Reply
from simulator.bayeux_session import EndReason
from simulator.bayeux_websocket import MAX_FRAME, BayeuxSocket

__all__ = ["NOTIFICATIONS_PATH", "Authenticator", "BayeuxServer"]

logger = logging.getLogger("simulator.bayeux")

NOTIFICATIONS_PATH = "/api/v2/notifications"

Authenticator = Callable[[web.Request], Awaitable[str]]
"""Returns the GWS user name of the request; raises an aiohttp HTTP error (401, 403) to refuse it."""


class BayeuxServer:
    """A CometD (Bayeux 1.0) server mounted on an aiohttp application.

    ``long_poll_timeout`` is how long a ``/meta/connect`` is held (advertised as
    ``advice.timeout``); ``session_timeout`` is how long a client may go without
    any request before it is forgotten; ``max_queue`` bounds each client's
    queue; ``max_clients`` bounds the sessions (handshakes beyond it are refused).
    """

    def __init__(
        self,
        authenticate: Authenticator,
        *,
        long_poll_timeout: float = 30.0,
        session_timeout: float = 60.0,
        max_queue: int = 1000,
        max_clients: int = 50_000,
    ) -> None:
        self._authenticate = authenticate
        self._protocol = BayeuxProtocol(
            long_poll_timeout=long_poll_timeout,
            session_timeout=session_timeout,
            max_queue=max_queue,
            max_clients=max_clients,
        )
        self._sockets: set[BayeuxSocket] = set()
        self._root: str | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        self._refusing_until = 0.0  # loop time: until then every Bayeux request gets HTTP 503

    # -- the interface the simulator uses -----------------------------------------------------

    def add_routes(self, app: web.Application, path: str = NOTIFICATIONS_PATH) -> None:
        """Serve Bayeux at ``path`` and every path below it (POST: long-polling, GET + Upgrade:
        websocket), as a CometD server mapped to ``path/*`` does.

        Also closes the server when ``app`` shuts down, so held long-polls end at once.
        """
        self._root = path.rstrip("/")
        for route in (self._root, self._root + "/{tail:.*}"):
            app.router.add_post(route, self._handle_long_poll)
            app.router.add_get(route, self._handle_websocket, allow_head=False)

        async def _close_on_shutdown(_app: web.Application) -> None:
            await self.close()

        app.on_shutdown.append(_close_on_shutdown)

    def serves(self, path: str) -> bool:
        """True for the mount path and the paths below it (``/api/v2/notificationsX`` is not one)."""
        root = self._root
        return root is not None and (path == root or path.startswith(root + "/"))

    def publish(
        self, channel: str, data: dict[str, Any], *, user: str | None, ext: dict[str, Any] | None = None
    ) -> int:
        """Queue ``{"channel": channel, "data": data}`` (with ``ext`` when given, passed through as it
        is) for every client of ``user`` subscribed to a pattern matching ``channel``
        (``user=None``: every subscribed client).

        Returns how many clients got it. Never blocks; must run on the server's event loop thread.
        """
        return self._protocol.publish(channel, data, user, ext)

    async def disconnect_all(self, *, refuse_for: float = 0.0) -> int:
        """Drop every client, as a GWS node losing its CometD sessions does.

        A held connect is answered, and every later request of a dropped client gets
        ``402::Unknown client`` with ``advice.reconnect = handshake``; what was queued for a
        dropped client is gone (GWS replays nothing). With ``refuse_for`` > 0 every Bayeux
        request (handshakes included) gets HTTP 503 for that many seconds first, as from a
        load balancer in front of a GWS whose CometD is down. Returns the count dropped.
        """
        if refuse_for > 0:
            self._refusing_until = asyncio.get_running_loop().time() + refuse_for
        sessions = list(self._protocol.sessions.values())
        for session in sessions:
            self._protocol.remove(session, EndReason.DROPPED)
        logger.info("cometd clients dropped", extra={"clients": len(sessions), "refuse_for": refuse_for})
        return len(sessions)

    def _refusing(self) -> bool:
        return self._refusing_until > 0 and asyncio.get_running_loop().time() < self._refusing_until

    async def close(self) -> None:
        """End pending long-polls, close websockets and stop the session sweeper. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._protocol.closing = True
        for session in list(self._protocol.sessions.values()):
            self._protocol.remove(session, EndReason.SHUTDOWN)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        sockets = list(self._sockets)
        if sockets:
            await asyncio.gather(*(socket.shut_down() for socket in sockets), return_exceptions=True)

    @property
    def client_count(self) -> int:
        """Clients with a live session (handshaken, not disconnected, dropped or expired)."""
        return len(self._protocol.sessions)

    def stats(self) -> dict[str, int]:
        """Counters: clients, held connects, messages published/delivered, and dropped on full queues."""
        sessions = self._protocol.sessions.values()
        return {
            "clients": len(self._protocol.sessions),
            "held_connects": sum(1 for session in sessions if session.waiter is not None),
            "websockets": len(self._sockets),
            "published": self._protocol.published,
            "delivered": self._protocol.delivered,
            "dropped": self._protocol.dropped,
        }

    # -- transports ------------------------------------------------------------------------------

    async def _handle_long_poll(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        try:
            messages = parse_batch(await request.read(), request.content_type)
        except ValueError as exc:
            return web.json_response({"error": f"400::{exc}"}, status=400)
        if self._closed:
            return web.Response(status=503, text="CometD server is shutting down")
        if self._refusing():
            return web.Response(status=503, text="CometD is unavailable")
        self._start_sweeper()
        reply = await self._protocol.process(messages, user)
        if reply is None:
            return web.json_response({"error": "408::Superseded by a newer /meta/connect"}, status=408)
        transport = request.transport
        if transport is None or transport.is_closing():
            # The client gave up on this request: what it would have carried stays queued.
            reply = Reply(reply.messages)
        payload, _ = self._protocol.render(reply)
        return web.Response(body=payload, content_type="application/json")

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(
                status=400, text="Bayeux: POST a JSON array of messages, or open a websocket here"
            )
        user = await self._authenticate(request)
        if self._closed:
            return web.Response(status=503, text="CometD server is shutting down")
        if self._refusing():
            return web.Response(status=503, text="CometD is unavailable")
        self._start_sweeper()
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        socket = BayeuxSocket(ws, self._protocol, user)
        self._sockets.add(socket)
        try:
            await socket.serve()
        finally:
            self._sockets.discard(socket)
        return ws

    # -- session expiry --------------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        period = max(0.2, min(5.0, self._protocol.session_timeout / 4))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            expired = self._protocol.expire(loop.time())
            if expired:
                logger.info("cometd sessions expired", extra={"clients": expired})
