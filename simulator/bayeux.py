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
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from simulator.bayeux_protocol import BayeuxProtocol, Reply
from simulator.bayeux_session import BayeuxSession, EndReason

__all__ = ["NOTIFICATIONS_PATH", "Authenticator", "BayeuxServer"]

logger = logging.getLogger("simulator.bayeux")

NOTIFICATIONS_PATH = "/api/v2/notifications"

Authenticator = Callable[[web.Request], Awaitable[str]]
"""Returns the GWS user name of the request; raises an aiohttp HTTP error (401, 403) to refuse it."""

_MAX_FRAME = 1 << 20


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
        self._sockets: set[_Socket] = set()
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
            messages = _parse_batch(await request.read(), request.content_type)
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
        ws = web.WebSocketResponse(max_msg_size=_MAX_FRAME)
        await ws.prepare(request)
        socket = _Socket(ws, self._protocol, user)
        self._sockets.add(socket)
        try:
            async for frame in ws:
                if frame.type is WSMsgType.BINARY:
                    await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"Bayeux frames are text")
                    break
                if frame.type is not WSMsgType.TEXT:
                    continue
                try:
                    messages = _parse_batch(frame.data, "application/json")
                except ValueError as exc:
                    logger.warning("cometd websocket frame rejected", extra={"user": user, "error": str(exc)})
                    await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=str(exc).encode()[:120])
                    break
                socket.exchange(messages)
        finally:
            await socket.finish()
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


class _Socket:
    """One websocket: one task per incoming frame (a held connect must not stop the socket's other
    exchanges) and the pushes of the sessions that spoke last on it.

    Every frame goes out under one lock and takes the session's queued messages at that moment,
    so frames keep the order of the messages; a frame that cannot be sent gives them back.
    """

    def __init__(self, ws: web.WebSocketResponse, protocol: BayeuxProtocol, user: str) -> None:
        self._ws = ws
        self._protocol = protocol
        self._user = user
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pushing: set[BayeuxSession] = set()

    def exchange(self, messages: list[Any]) -> None:
        self._spawn(self._exchange(messages))

    def push_soon(self, session: BayeuxSession) -> None:
        if self._ws.closed:
            # Gone: the client's messages wait for its next connect, on whatever transport.
            session.pusher = None
            session.wake()
        elif session not in self._pushing:
            self._pushing.add(session)
            self._spawn(self._send(Reply([], session)))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _exchange(self, messages: list[Any]) -> None:
        reply = await self._protocol.process(messages, self._user, self)
        if reply is not None:
            await self._send(reply)

    async def _send(self, reply: Reply) -> None:
        async with self._lock:
            session = reply.session
            if session is not None:
                self._pushing.discard(session)
            if self._ws.closed or (not reply.messages and session is not None and session.pusher is not self):
                return  # closed, or a push for a client that has moved on: its messages stay queued
            payload, events = self._protocol.render(reply)
            if not reply.messages and not events:
                return  # a push whose messages an earlier frame already carried
            try:
                await self._ws.send_str(payload.decode())
            except (ConnectionError, RuntimeError) as exc:
                if session is not None:
                    self._protocol.undeliver(session, events)
                logger.debug("cometd websocket send failed", extra={"user": self._user, "error": str(exc)})

    async def finish(self) -> None:
        """The socket closed: stop its exchanges (a held connect ends unanswered)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def shut_down(self) -> None:
        """Close the socket with 1001 (going away), waiting at most 2 s for the client."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), 2.0
            )


def _parse_batch(body: bytes | str, content_type: str) -> list[Any]:
    """The message list of a request body: a JSON array or one JSON object; in a form body, every
    ``message`` field (each an object or an array, Bayeux 1.0 long-polling)."""
    if content_type == "application/x-www-form-urlencoded":
        text = body.decode() if isinstance(body, bytes) else body
        fields = parse_qs(text).get("message")
        if not fields:
            raise ValueError("form body without a message field")
        return [message for field in fields for message in _decode_messages(field)]
    return _decode_messages(body)


def _decode_messages(body: bytes | str) -> list[Any]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"Malformed JSON: {exc}") from exc
    if isinstance(decoded, dict):
        return [decoded]
    if not isinstance(decoded, list) or not decoded:
        raise ValueError("Expected a non-empty JSON array of messages")
    return decoded
