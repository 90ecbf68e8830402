"""Logging an agent in again while its session runs: one log-in at a time, REST and CometD alike.

GWS ties REST and CometD to one HTTP session (JSESSIONID, CSRF token). When it forgets that
session (a Bayeux 401/403, a re-handshake after a node restart, a CometD request refused with
HTTP 401/403), the agent logs in again and both carry on with the fresh cookie and token.
:class:`Relogin` does that once at a time, and its :meth:`Relogin.trace_config` starts it in the
background as soon as GWS refuses a CometD request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from bridge.gws.rest import GwsRestClient
from bridge.gws.status import SessionStatus, describe_error

__all__ = ["Relogin"]

# Logs as part of the agent session, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.session")


class Relogin:
    """Logs ``rest``'s agent in again, one log-in at a time.

    ``status``: where a failed background log-in is recorded (``last_error``).
    ``after_background_login``: called once a background log-in succeeded (GWS may have
    given us a new HTTP session, without the old one's subscriptions).
    """

    def __init__(
        self, rest: GwsRestClient, status: SessionStatus, *, after_background_login: Callable[[], None]
    ) -> None:
        self._rest = rest
        self._status = status
        self._after_background_login = after_background_login
        self._lock = asyncio.Lock()
        self._task: asyncio.Future[None] | None = None

    async def __call__(self, reason: str) -> None:
        """Log in again (after a log-in already under way, not together); raises ``GwsError``."""
        async with self._lock:
            agent = self._rest.username
            logger.info(
                "agent %s logging in again: %s", agent, reason, extra={"agent": agent, "reason": reason}
            )
            await self._rest.login()

    def trace_config(self) -> aiohttp.TraceConfig:
        """For the CometD HTTP session: log in again as soon as GWS refuses a request with 401/403.

        aiocometd only sees such a reply as a transport error and keeps retrying with the same
        stale session; the fresh cookie and CSRF token reach it through the extension on its
        next attempt.
        """

        async def on_request_end(
            session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            status = params.response.status
            if status in (401, 403) and (self._task is None or self._task.done()):
                self._task = asyncio.ensure_future(self._in_background(f"cometd HTTP {status}"))

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_request_end)
        return trace

    async def aclose(self) -> None:
        """Cancel a background log-in still under way."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _in_background(self, reason: str) -> None:
        try:
            await self(reason)
        except Exception as exc:  # the transport keeps retrying; the session starts over if it gives up
            error = self._status.last_error = describe_error(exc)
            logger.warning("agent %s: logging in again failed: %s", self._rest.username, error)
            return
        self._after_background_login()
