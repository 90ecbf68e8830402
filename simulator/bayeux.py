"""The simulator's CometD server: Bayeux 1.0 over long-polling and websocket, on aiohttp.

GWS serves its notifications at ``/api/v2/notifications``; this is that
endpoint. ``POST`` carries a JSON array of Bayeux messages (long-polling) and
gets a JSON array back; ``GET`` with ``Upgrade: websocket`` opens a socket on
which each text frame is such an array and each reply is one frame.

Every request is authenticated by the ``Authenticator`` the simulator passes
in (session cookie or Basic auth, as its REST API does): ``None`` means HTTP
401. The user of the handshake owns the ``clientId``; later requests from
another user are refused. ``publish(channel, data, user=...)`` queues a
message for that user's subscribed clients only (``user=None``: every
subscribed client), in O(matching subscribers of that user).

Memory stays bounded: a client that stops connecting for longer than
``session_timeout`` is removed, and each client's queue keeps at most
``max_queue`` messages (the oldest are dropped and counted in ``stats()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from simulator.bayeux_protocol import BayeuxProtocol
from simulator.bayeux_session import EndReason

__all__ = ["Authenticator", "BayeuxServer"]

logger = logging.getLogger("simulator.bayeux")

Authenticator = Callable[[web.Request], Awaitable[str | None]]
"""Returns the GWS user name of the request's session or credentials, or None (HTTP 401)."""


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
        self._sockets: set[web.WebSocketResponse] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    # -- the interface the simulator uses -----------------------------------------------------

    def add_routes(self, app: web.Application, path: str = "/api/v2/notifications") -> None:
        """Serve Bayeux at ``path`` (POST: long-polling, GET + Upgrade: websocket).

        Also closes the server when ``app`` shuts down, so held long-polls end at once.
        """
        app.router.add_post(path, self._handle_long_poll)
        app.router.add_get(path, self._handle_websocket, allow_head=False)

        async def _close_on_shutdown(_app: web.Application) -> None:
            await self.close()

        app.on_shutdown.append(_close_on_shutdown)

    def publish(self, channel: str, data: dict[str, Any], *, user: str | None) -> int:
        """Queue ``{"channel": channel, "data": data}`` for every client of ``user`` subscribed to a
        pattern matching ``channel`` (``user=None``: every subscribed client).

        Returns how many clients got it. Never blocks; must run on the server's event loop thread.
        """
        return self._protocol.publish(channel, data, user)

    async def disconnect_all(self) -> int:
        """Drop every client, as a GWS node losing its CometD sessions does.

        A held connect is answered, and every later request of a dropped client gets
        ``402::Unknown client`` with ``advice.reconnect = handshake``. Returns the count dropped.
        """
        sessions = list(self._protocol.sessions.values())
        for session in sessions:
            self._protocol.remove(session, EndReason.DROPPED)
        logger.info("cometd clients dropped", extra={"clients": len(sessions)})
        return len(sessions)

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
            await asyncio.gather(*(self._close_socket(ws) for ws in sockets), return_exceptions=True)

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
        if user is None:
            return _unauthorized()
        try:
            messages = _parse_batch(await request.read(), request.content_type)
        except ValueError as exc:
            return web.json_response({"error": f"400::{exc}"}, status=400)
        if self._closed:
            return web.Response(status=503, text="CometD server is shutting down")
        self._start_sweeper()
        payload = await self._protocol.process(messages, user, partial(_transport_open, request))
        return web.Response(body=payload, content_type="application/json")

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(
                status=400, text="Bayeux: POST a JSON array of messages, or open a websocket here"
            )
        user = await self._authenticate(request)
        if user is None:
            return _unauthorized()
        if self._closed:
            return web.Response(status=503, text="CometD server is shutting down")
        self._start_sweeper()
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        self._sockets.add(ws)
        send_lock = asyncio.Lock()
        exchanges: set[asyncio.Task[None]] = set()
        try:
            async for frame in ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    messages = _parse_batch(frame.data, "application/json")
                except ValueError as exc:
                    logger.warning("cometd websocket frame rejected", extra={"user": user, "error": str(exc)})
                    await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=str(exc).encode()[:120])
                    break
                # One task per frame: a held /meta/connect must not stop the socket's other exchanges.
                task = asyncio.create_task(self._websocket_exchange(ws, send_lock, messages, user))
                exchanges.add(task)
                task.add_done_callback(exchanges.discard)
        finally:
            for task in list(exchanges):
                task.cancel()
            await asyncio.gather(*exchanges, return_exceptions=True)
            self._sockets.discard(ws)
        return ws

    async def _websocket_exchange(
        self, ws: web.WebSocketResponse, send_lock: asyncio.Lock, messages: list[Any], user: str
    ) -> None:
        payload = await self._protocol.process(messages, user, lambda: not ws.closed)
        if ws.closed:
            return
        async with send_lock:
            try:
                await ws.send_str(payload.decode())
            except (ConnectionError, RuntimeError) as exc:
                logger.debug("cometd websocket send failed", extra={"user": user, "error": str(exc)})

    @staticmethod
    async def _close_socket(ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), 2.0)

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


def _transport_open(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


def _unauthorized() -> web.Response:
    headers = {"WWW-Authenticate": "Basic"}
    return web.Response(status=401, text="401: authentication required", headers=headers)


def _parse_batch(body: bytes | str, content_type: str) -> list[Any]:
    """The message list of a request body: a JSON array, one JSON object, or a form field ``message``."""
    if content_type == "application/x-www-form-urlencoded":
        text = body.decode() if isinstance(body, bytes) else body
        fields = parse_qs(text).get("message")
        if not fields:
            raise ValueError("form body without a message field")
        body = fields[0]
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"Malformed JSON: {exc}") from exc
    if isinstance(decoded, dict):
        return [decoded]
    if not isinstance(decoded, list) or not decoded:
        raise ValueError("Expected a non-empty JSON array of messages")
    return decoded
