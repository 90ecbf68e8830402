"""An agent's CometD connection: the aiohttp session it runs on, and one client at a time.

:class:`CometdConnection` opens a :class:`~bridge.gws.cometd.CometdClient` (long-polling, built
inside the running loop) with the :class:`~bridge.gws.cometd.GwsExtension` that adds the agent's
credentials to every Bayeux request, subscribes to the session's channels, and closes it again
— politely, or by abandoning it when a polite close fails or takes too long. The aiohttp
session outlives the clients (one per connection) and takes no cookies: the REST client's jar
is the one truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import orjson
from aiocometd_noloop import ConnectionType

from bridge.gws.cometd import CometdClient, ConnectionEvents, GwsExtension, json_dumps
from bridge.gws.rest import GwsRestClient
from bridge.gws.status import describe_error

__all__ = ["CometdConnection"]

# Logs as part of the agent session, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.session")


class CometdConnection:
    """Opens and closes one agent's CometD clients on an aiohttp session it owns.

    ``rest``: the agent's REST client (its URL, TLS settings and credentials).
    ``subscriptions``: the channels to subscribe to, in order. ``events``: what the
    extension tells about the connection. ``connector``: a shared aiohttp connector (the
    caller closes it; ``None``: the session opens its own). ``trace``: watches the CometD
    HTTP requests (:meth:`bridge.gws.relogin.Relogin.trace_config`). ``connection_timeout``:
    how long the transport may fail to reconnect before ``receive`` raises;
    ``close_timeout``: how long a polite close may take.
    """

    def __init__(
        self,
        rest: GwsRestClient,
        *,
        subscriptions: Sequence[str],
        events: ConnectionEvents,
        connector: aiohttp.BaseConnector | None,
        trace: aiohttp.TraceConfig,
        connection_timeout: float,
        close_timeout: float,
    ) -> None:
        self._rest = rest
        self._subscriptions = list(subscriptions)
        self._events = events
        self._connector = connector
        self._trace = trace
        self._connection_timeout = connection_timeout
        self._close_timeout = close_timeout
        self._http: aiohttp.ClientSession | None = None
        #: The open client (``None`` between :meth:`close` and the next :meth:`open`).
        self.client: CometdClient | None = None

    @property
    def received(self) -> int:
        """How many messages the client holds that nobody has taken yet."""
        return self.client.pending_count if self.client is not None else 0

    async def open(self) -> CometdClient:
        """Handshake and subscribe to every channel; raises what aiocometd raises."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=self._connector,
                connector_owner=self._connector is None,
                cookie_jar=aiohttp.DummyCookieJar(),  # the REST client's jar is the one truth
                json_serialize=json_dumps,
                trace_configs=[self._trace],
            )
        self.client = client = CometdClient(
            self._rest.base_url + "/api/v2/notifications",
            self._http,
            connection_types=ConnectionType.LONG_POLLING,
            connection_timeout=self._connection_timeout,
            ssl=self._rest.ssl,
            auth=GwsExtension(self._rest, self._subscriptions, self._events),
            json_loads=orjson.loads,
        )
        await client.open()
        for channel in self._subscriptions:
            await client.subscribe(channel)
        return client

    async def close(self) -> None:
        """Close the client, if one is open; a failure to close is logged at debug level only."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            await asyncio.wait_for(client.close(), timeout=self._close_timeout)
        except asyncio.CancelledError:
            client.abandon()
            raise
        except Exception as exc:  # closing a broken client must not mask the real failure
            client.abandon()
            logger.debug(
                "cometd close failed", extra={"agent": self._rest.username, "error": describe_error(exc)}
            )

    async def aclose(self) -> None:
        """Close the client and the aiohttp session."""
        await self.close()
        if self._http is not None:
            await self._http.close()
            self._http = None
