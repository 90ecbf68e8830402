"""What a Slack request leaves running once it is answered: Slack wants its answer within 3 s, so
a command runs after it, and its outcome (or a click's refusal) is posted to the request's
``response_url`` — a second HTTP exchange, outside the request's own steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp

__all__ = ["FollowUps"]

logger = logging.getLogger("bridge.inbound.slack")


class FollowUps:
    """The background follow-ups of one receiver's Slack routes, and the session they post with."""

    def __init__(self) -> None:
        self._http: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` after the answer (kept until it is done, cancelled by :meth:`aclose`)."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Post ``message`` to ``response_url``; a refusal or no answer is logged, never raised."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._http.post(response_url, json=message) as response:
                await response.read()
                if response.status >= 400:
                    logger.warning("response_url refused the outcome", extra={"status": response.status})
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The URL is a bearer capability: name the error class only.
            logger.warning("response_url unreachable", extra={"error": type(exc).__name__})

    async def wait_idle(self, within: float = 10.0) -> None:
        """Wait (bounded) until every follow-up finished (tests, graceful shutdown)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=within)

    async def aclose(self) -> None:
        """Cancel the follow-ups still running and close the HTTP session."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
