"""One websocket of the simulator's CometD server: its frames in, its replies and pushes out.

Each text frame is a JSON batch of Bayeux messages, exchanged in a task of its own (a held
``/meta/connect`` must not stop the socket's other exchanges); messages published for a client
whose connect is held on this socket are pushed at once in frames of their own. Close codes: 1011
for a frame that is not a JSON batch (as CometD), 1003 for a binary frame, 1001 on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from simulator.bayeux_batch import parse_batch
from simulator.bayeux_protocol import BayeuxProtocol, Reply
from simulator.bayeux_session import BayeuxSession

__all__ = ["MAX_FRAME", "BayeuxSocket"]

# Logs as part of the CometD server, under the same logger name as before the split.
logger = logging.getLogger("simulator.bayeux")

MAX_FRAME = 1 << 20  # bytes; a larger frame closes the socket with 1009 (aiohttp)


class BayeuxSocket:
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

    async def serve(self) -> None:
        """Read frames until the socket closes, then stop its exchanges."""
        ws, user = self._ws, self._user
        try:
            async for frame in ws:
                if frame.type is WSMsgType.BINARY:
                    await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"Bayeux frames are text")
                    break
                if frame.type is not WSMsgType.TEXT:
                    continue
                try:
                    messages = parse_batch(frame.data, "application/json")
                except ValueError as exc:
                    logger.warning("cometd websocket frame rejected", extra={"user": user, "error": str(exc)})
                    await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=str(exc).encode()[:120])
                    break
                self.exchange(messages)
        finally:
            await self.finish()

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
