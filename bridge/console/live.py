"""The live tail: Server-Sent Events of delivery attempts, read from the attempt stream.

Back-pressure by construction: the worker appends to a Redis stream of bounded length and never
waits for a reader. Each browser has its own cursor and reads at its own pace (``XREAD BLOCK``);
a reader that falls behind gets at most :data:`MAX_PER_READ` entries per read (the newest) and a
``skipped`` event saying how many it missed, and a reader whose cursor was trimmed away starts
again from the present. Each read is sent in one write (its frames joined), so a burst costs a
browser one drain, not one per attempt. A stalled connection blocks only its own response: at most
:data:`MAX_CLIENTS` streams are served at once, and a write that cannot drain within
:data:`WRITE_TIMEOUT` seconds ends that stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from redis.asyncio import Redis

from bridge.delivery.recording import parse_entry

__all__ = ["MAX_CLIENTS", "MAX_PER_READ", "LiveTail"]

logger = logging.getLogger(__name__)

MAX_CLIENTS = 20
MAX_PER_READ = 100
WRITE_TIMEOUT = 10.0
BLOCK_MS = 5000


class LiveTail:
    """Serves ``GET /v1/admin/stream`` to many browsers from one Redis stream."""

    def __init__(self, redis: Redis, key: str, masker: Callable[[Any], Any]) -> None:
        self._redis = redis
        self._key = key
        self._mask = masker
        self._clients = 0
        self._closing = asyncio.Event()

    async def aclose(self) -> None:
        self._closing.set()

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if self._clients >= MAX_CLIENTS:
            raise web.HTTPServiceUnavailable(reason=f"at most {MAX_CLIENTS} live streams at once")
        self._clients += 1
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            await response.prepare(request)
            await self._pump(response)
        except (ConnectionResetError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._clients -= 1
        return response

    async def _send(self, response: web.StreamResponse, kind: str, data: Any) -> None:
        await self._write(response, [_frame(kind, data)])

    async def _write(self, response: web.StreamResponse, frames: list[bytes]) -> None:
        """One write (and one drain) for every frame of a read, not one per attempt."""
        async with asyncio.timeout(WRITE_TIMEOUT):
            await response.write(b"".join(frames))

    async def _pump(self, response: web.StreamResponse) -> None:
        # The present, fixed before "hello": an attempt recorded once the browser has seen
        # "hello" is always sent ("$" on the first XREAD would skip one recorded in between).
        latest: Any = await self._redis.xrevrange(self._key, count=1)
        cursor = latest[0][0].decode() if latest else "0-0"
        await self._send(response, "hello", {"max_per_read": MAX_PER_READ})
        while not self._closing.is_set():
            # A cursor older than the stream's first entry was trimmed: say so and resume now.
            reply: Any = await self._redis.xread({self._key: cursor}, count=MAX_PER_READ * 10, block=BLOCK_MS)
            if not reply:
                await self._send(response, "ping", {})
                continue
            _, rows = reply[0]
            cursor = rows[-1][0].decode()
            skipped = max(0, len(rows) - MAX_PER_READ)
            frames = [_frame("skipped", {"count": skipped})] if skipped else []
            for entry_id, fields in rows[skipped:]:
                entry = parse_entry(entry_id, fields)
                event = entry.pop("event")
                entry["event"] = self._mask({"data": event.get("data")})
                frames.append(_frame("attempt", entry))
            await self._write(response, frames)
            if len(rows) == MAX_PER_READ * 10:
                # Far behind: jump to the present rather than replay what the stream still holds.
                with contextlib.suppress(Exception):
                    latest = await self._redis.xrevrange(self._key, count=1)
                    if latest:
                        cursor = latest[0][0].decode()
                        await self._send(response, "skipped", {"count": "many"})


def _frame(kind: str, data: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
