"""A lightweight CometD listener per agent that has commands waiting for their outcome.

It uses the agent's own REST session (Authorization, JSESSIONID cookie and
CSRF token from :meth:`GwsRestClient.cometd_headers`), subscribes to
``/v2/me/calls``, ``/v2/me/devices``, ``/v2/me/channels`` and ``/v2/me`` (password changes)
over long-polling, and feeds every message to the :class:`OutcomeTracker`. :meth:`ensure` returns
only once the subscriptions are confirmed, so a notification caused by the
command that follows cannot be missed. A listener with nothing pending for
``idle_timeout`` seconds closes itself. If CometD cannot be opened, the
agent's pending commands become ``unknown`` (never guessed). A listener whose
CometD session GWS refused (``402`` after a node restart, when the re-handshake
also needs a fresh login and CSRF token) is replaced, after a new login, by the
next :meth:`ensure`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
import orjson
from aiocometd_noloop import AuthExtension, ConnectionType

from bridge.gws.cometd import CometdClient, json_dumps
from bridge.gws.rest import GwsRestClient
from bridge.inbound.outcomes import OutcomeTracker

__all__ = ["OUTCOME_CHANNELS", "ListenerPool"]

logger = logging.getLogger(__name__)

OUTCOME_CHANNELS = ("/v2/me/calls", "/v2/me/devices", "/v2/me/channels", "/v2/me")
_HEADERS_TTL = 10.0  # seconds the CometD auth headers are reused without looking at the cookie jar


class _RestCredentials(AuthExtension):
    """The agent's REST credentials on every CometD request; tells whether the session still holds.

    The headers are reused while the login (state and generation) and the CSRF token stay the
    same, for at most ``_HEADERS_TTL`` s, as the subscriber's extension does
    (:class:`bridge.gws.cometd.GwsExtension`): building them filters the cookie jar, and the
    listener renews its long-poll once per notification, i.e. about once per command.
    """

    def __init__(self, rest: GwsRestClient) -> None:
        self._rest = rest
        self.refused = False  # GWS refused a handshake or connect; cleared by a successful connect
        self._headers: dict[str, str] = {}
        self._headers_key: tuple[Any, ...] | None = None
        self._headers_until = 0.0

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        rest = self._rest
        key = (rest.logged_in, rest.login_generation, rest.csrf)
        now = time.monotonic()
        if key != self._headers_key or now >= self._headers_until:
            self._headers = rest.cometd_headers()
            self._headers_key = key
            self._headers_until = now + _HEADERS_TTL
        headers.update(self._headers)

    async def incoming(self, payload: list[dict[str, Any]], headers: Any = None) -> None:
        for message in payload:
            if message.get("channel") in ("/meta/handshake", "/meta/connect"):
                self.refused = not message.get("successful")

    async def authenticate(self) -> None:
        await self._rest.login()


class _AgentListener:
    def __init__(self, agent: str, rest: GwsRestClient, tracker: OutcomeTracker, http: aiohttp.ClientSession):
        self.agent = agent
        self._rest = rest
        self._tracker = tracker
        self._http = http
        self._client: CometdClient | None = None
        self._credentials = _RestCredentials(rest)
        self.task: asyncio.Task[None] | None = None
        self._watch: asyncio.TimerHandle | None = None
        self.last_busy = time.monotonic()
        self.closing = False  # set before the idle listener closes: ensure() must not rely on it

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done() and not self.closing and not self.refused

    @property
    def refused(self) -> bool:
        """GWS refused the CometD session: a replacement must log in again first."""
        return self._credentials.refused

    async def open(self, connection_timeout: float, *, login: bool = False) -> None:
        if login or not self._rest.logged_in:
            await self._rest.login()
        client = CometdClient(
            self._rest.base_url + "/api/v2/notifications",
            self._http,
            connection_types=ConnectionType.LONG_POLLING,
            connection_timeout=connection_timeout,
            ssl=self._rest.ssl,
            auth=self._credentials,
            json_loads=orjson.loads,
        )
        self._client = client
        await client.open()
        for channel in OUTCOME_CHANNELS:
            await client.subscribe(channel)

    async def run(self, idle_timeout: float) -> None:
        """Feed every message to the tracker until CometD fails or the idle watch cancels this task."""
        client = self._client
        assert client is not None
        task = asyncio.current_task()
        assert task is not None
        period = min(1.0, idle_timeout)
        self._watch = asyncio.get_running_loop().call_later(
            period, self._watch_idle, task, idle_timeout, period
        )
        try:
            while True:
                message = await client.receive()
                data = message.get("data")
                if isinstance(data, dict):
                    self._tracker.feed(self.agent, str(message.get("channel", "")), data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any CometD failure: the pending outcomes cannot be known
            self.closing = True
            logger.warning(
                "outcome listener stopped", extra={"agent": self.agent, "error": type(exc).__name__}
            )
            self._tracker.fail_all(self.agent, f"CometD listener failed: {type(exc).__name__}")
        finally:
            if self._watch is not None:
                self._watch.cancel()
            await self.close()

    def _watch_idle(self, task: asyncio.Task[None], idle_timeout: float, period: float) -> None:
        """Every ``period`` s: stop the listener once nothing was pending for ``idle_timeout`` s.

        A timer rather than a timeout around each receive: a notification costs no extra task.
        Whatever arrives after ``closing`` is set has no command waiting for it.
        """
        if self._tracker.has_pending(self.agent):
            self.last_busy = time.monotonic()
        elif time.monotonic() - self.last_busy > idle_timeout:
            self.closing = True
            task.cancel()
            return
        self._watch = asyncio.get_running_loop().call_later(
            period, self._watch_idle, task, idle_timeout, period
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), timeout=2.0)


class ListenerPool:
    """One :class:`_AgentListener` per agent with pending commands."""

    def __init__(
        self, tracker: OutcomeTracker, *, idle_timeout: float = 60.0, connection_timeout: float = 5.0
    ) -> None:
        self._tracker = tracker
        self._idle_timeout = idle_timeout
        self._connection_timeout = connection_timeout
        self._listeners: dict[str, _AgentListener] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._http: aiohttp.ClientSession | None = None

    async def ensure(self, agent: str, rest: GwsRestClient) -> None:
        """Make sure ``agent``'s listener is subscribed; raises on failure (then nothing is pending)."""
        listener = self._listeners.get(agent)
        if listener is not None and listener.alive:
            listener.last_busy = time.monotonic()
            return
        lock = self._locks.setdefault(agent, asyncio.Lock())
        async with lock:
            listener = self._listeners.get(agent)
            if listener is not None and listener.alive:
                listener.last_busy = time.monotonic()
                return
            refused = listener is not None and listener.refused
            if listener is not None and listener.task is not None:
                listener.task.cancel()  # stale or refused: the replacement feeds the tracker
            if self._http is None:
                self._http = aiohttp.ClientSession(
                    cookie_jar=aiohttp.DummyCookieJar(), json_serialize=json_dumps
                )
            listener = _AgentListener(agent, rest, self._tracker, self._http)
            try:
                opening = listener.open(self._connection_timeout, login=refused)
                await asyncio.wait_for(opening, self._connection_timeout * 2)
            except BaseException:
                await listener.close()
                raise
            listener.task = asyncio.create_task(listener.run(self._idle_timeout), name=f"outcomes-{agent}")
            self._listeners[agent] = listener
            logger.info("outcome listener started", extra={"agent": agent})

    def running(self) -> list[str]:
        """Agents whose listener is running."""
        return [agent for agent, listener in self._listeners.items() if listener.alive]

    async def aclose(self) -> None:
        """Stop every listener."""
        listeners, self._listeners = list(self._listeners.values()), {}
        for listener in listeners:
            if listener.task is not None:
                listener.task.cancel()
        for listener in listeners:
            if listener.task is not None:
                with contextlib.suppress(BaseException):
                    await listener.task
        if self._http is not None:
            await self._http.close()
            self._http = None
