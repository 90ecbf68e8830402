"""``AgentSession``: one agent's GWS session, from CometD notifications to handed-on events.

Lifecycle (:meth:`AgentSession.run`, until :meth:`AgentSession.stop`):

1. log in over REST (Basic auth; JSESSIONID and the CSRF token are captured),
   optionally ``StartContactCenterSession``;
2. load the agent's last known state from the state store;
3. open CometD (aiocometd-noloop, long-polling, built inside the running loop)
   with an auth extension that sends Authorization, Cookie and the CSRF header
   on every Bayeux request, and subscribe to ``/v2/me`` (password changes: ``/v2/me/*``
   matches only the channels below it), ``/v2/me/*`` and ``/notifications/services``;
4. recover state: send the workbin ``Subscribe`` for each of the agent's workbins (GWS
   sends workbin notifications only to a client that did), then ``GET /me?subresources=*``,
   ``/me/calls?fields=*``, ``/me/interactions?fields=*`` and each workbin's content →
   ``normalize_snapshot`` → events for what changed since the last known state;
5. for every message (and every note the receiver filed for the agent, ``notes.py``):
   ``normalize`` → ``sink.publish`` → ``state_store.save``.
   A message counts as handled only once the sink has returned. A session that
   has fallen behind takes the messages already queued (up to 64) together:
   normalized in order, their events handed on in one ``publish``, then one
   save; each of them counts as handled only after both.

aiocometd re-handshakes and re-subscribes by itself when GWS forgets the
client (``402::Unknown client``, a node restart) and reconnects after network
errors. The extension watches ``/meta/handshake``, ``/meta/subscribe`` and
``/meta/connect`` replies; after a re-handshake — once GWS has confirmed every
re-subscription, so that nothing GWS publishes after the state is read can
miss us — or a reconnect-after-failure, step 4 runs again, after the messages
already received have been handled. A re-subscription GWS refuses starts the
session over. A Bayeux 401/403 makes
aiocometd call :meth:`authenticate`, which logs in again; a CometD request that
GWS refuses with HTTP 401/403 logs in again too, and step 4 follows (a new HTTP
session has no workbin subscription). Anything worse (the
transport gives up, GWS unreachable) closes everything and starts over from
step 1 after a capped, jittered backoff.

Events are deduplicated per session on their deterministic id, so a change
seen live and again in a recovery snapshot is handed on once. The CometD client and auth extension
are in ``cometd.py``, the message loop in ``message_loop.py``, what recovery reads in ``recovery.py``,
``Backoff`` in ``backoff.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import orjson
from aiocometd_noloop import ConnectionType

from bridge.config.gws import GwsSettings
from bridge.events import EventSink
from bridge.gws.backoff import Backoff
from bridge.gws.cometd import CometdClient, GwsExtension, json_dumps
from bridge.gws.login_rate import LoginRateLimiter
from bridge.gws.message_loop import MessageLoop
from bridge.gws.message_loop import describe_error as _describe
from bridge.gws.notes import AgentNotes
from bridge.gws.operations import start_contact_center_session
from bridge.gws.recovery import read_snapshot
from bridge.gws.rest import GwsRestClient
from bridge.gws.state_store import StateStore
from bridge.normalize import Snapshot, normalize_snapshot
from bridge.normalize.state import MemoryState, StaleStateError

__all__ = ["DEFAULT_CHANNELS", "AgentSession", "Backoff", "SessionStatus"]

logger = logging.getLogger(__name__)

#: CometD channels every agent session subscribes to, one round trip each, in this order.
#: ``/v2/me`` carries the password-change notifications (a Bayeux ``*`` matches one segment, so
#: ``/v2/me/*`` does not include it); it comes last so that calls, devices and interactions
#: are subscribed to as early after a handshake as before: every round trip before them widens
#: the window whose notifications only recovery can make up for (e2e fault tests lost the
#: ringing of calls started in it).
DEFAULT_CHANNELS: tuple[str, ...] = ("/v2/me/*", "/notifications/services", "/v2/me")


@dataclass
class SessionStatus:
    """What an :class:`AgentSession` is doing (a copy: :meth:`AgentSession.snapshot`).

    ``connected``: subscribed and caught up (the first recovery done), and the
    last CometD connect succeeded. ``last_message_at`` is a Unix timestamp.
    ``reconnects`` counts re-handshakes, reconnections after a failure and full
    restarts after the first connection.
    """

    agent: str
    connected: bool = False
    last_message_at: float | None = None
    reconnects: int = 0
    recoveries: int = 0
    messages: int = 0
    events: int = 0
    last_error: str | None = None


class AgentSession(MessageLoop):
    """Holds one agent's GWS session and turns its notifications into events.

    ``gws``: where GWS is and how to talk to it (URL, timeouts, TLS, retries).
    ``connector``: a shared aiohttp connector (the caller closes it); without
    one, the session opens its own. ``state_store``: where state is loaded
    from and saved to after every message (``None``: in memory only).
    ``channels``: media channels for ``StartContactCenterSession``; empty means
    no contact-center session is started. ``start_gate``: limits how many
    sessions log in and handshake at the same time; ``login_limiter`` paces their
    log-ins (:mod:`bridge.gws.login_rate`). ``notes``: where the
    receiver files notes for the agent (:meth:`note_filed` says one is waiting).

    :meth:`run` holds the session once; it closes the REST client when it
    returns, so a new holder makes a new ``AgentSession``. ``status`` is live
    (read it, don't change it); :meth:`snapshot` returns a copy. Passwords,
    tokens and cookies never appear in logs or in ``status.last_error``.
    """

    def __init__(
        self,
        gws: GwsSettings,
        username: str,
        password: str,
        *,
        sink: EventSink,
        state_store: StateStore | None = None,
        connector: aiohttp.BaseConnector | None = None,
        source: str = "gws-bridge",
        include_raw: bool = False,
        channels: Sequence[str] = (),
        place: str | None = None,
        subscriptions: Sequence[str] = DEFAULT_CHANNELS,
        connection_timeout: float = 5.0,
        close_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_cap: float = 30.0,
        start_gate: asyncio.Semaphore | None = None,
        login_limiter: LoginRateLimiter | None = None,
        notes: AgentNotes | None = None,
    ) -> None:
        self.base_url = gws.base_url.rstrip("/")
        self.username = username
        self._sink = sink
        self._store = state_store
        self._connector = connector
        self._source = source
        self._include_raw = include_raw
        self._channels = list(channels)
        self._place = place
        self._subscriptions = list(subscriptions)
        self._connection_timeout = connection_timeout
        self._close_timeout = close_timeout
        self._backoff = Backoff(backoff_initial, backoff_cap)
        self._start_gate = start_gate
        self._notes = notes
        self._notes_waiting = False
        self.rest = GwsRestClient.from_settings(
            gws, username, password, connector=connector, login_limiter=login_limiter
        )
        self.status = SessionStatus(agent=username)
        self._state: Any = None
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._http: aiohttp.ClientSession | None = None
        self._client: CometdClient | None = None
        self._receive_task: asyncio.Task[dict[str, Any]] | None = None
        self._recovery_reasons: list[str] = []
        self._recovery_backlog = 0
        self._attention = asyncio.Event()
        self._stopping = asyncio.Event()
        self._relogin_lock = asyncio.Lock()
        self._relogin_task: asyncio.Future[None] | None = None
        self._ever_connected = False
        self._live = False
        #: True once :meth:`run` ended because another holder took the agent's state over.
        self.superseded = False

    # -- public ---------------------------------------------------------------------------------

    def snapshot(self) -> SessionStatus:
        """A copy of the current :class:`SessionStatus`."""
        return replace(self.status)

    async def run(self) -> None:
        """Hold the session until :meth:`stop`; never raises except ``CancelledError``.

        Failures are logged, recorded in ``status.last_error`` and retried after a
        capped, jittered backoff. It also returns, with ``superseded`` set, when
        the state store refuses a save because another holder took the agent over.
        """
        try:
            while not self._stopping.is_set():
                try:
                    await self._connect()
                    self._live = True  # connected means subscribed *and* caught up
                    self.status.connected = True
                    self._backoff.reset()
                    await self._pump()
                except asyncio.CancelledError:
                    raise
                except StaleStateError as exc:
                    # Another holder loaded this agent's state: it owns the agent now. Starting
                    # over would load the state again and fence *it* out, so this session ends.
                    self.superseded = True
                    self.status.last_error = _describe(exc)
                    logger.warning(
                        "agent %s taken over by another holder; session ends",
                        self.username,
                        extra={"agent": self.username},
                    )
                    return
                except Exception as exc:
                    self.status.last_error = _describe(exc)
                    logger.warning(
                        "agent session %s failed; starting over: %s",
                        self.username,
                        self.status.last_error,
                        extra={"agent": self.username, "error": self.status.last_error},
                    )
                finally:
                    self._live = False
                    self.status.connected = False
                    await self._close_cometd()
                if not self._stopping.is_set():
                    await self._sleep_unless_stopped(self._backoff.next_delay())
        finally:
            await self._close_cometd()
            if self._relogin_task is not None and not self._relogin_task.done():
                self._relogin_task.cancel()
                await asyncio.gather(self._relogin_task, return_exceptions=True)
            await self.rest.aclose()
            if self._http is not None:
                await self._http.close()
                self._http = None
            logger.info("agent session %s closed", self.username, extra={"agent": self.username})

    async def stop(self) -> None:
        """Ask :meth:`run` to finish after the message in hand has been handled."""
        self._stopping.set()

    def note_filed(self) -> None:
        """A note was filed for this agent (``bridge.gws.notes``): take it after the message in hand."""
        if self._notes is not None:
            self._notes_waiting = True
            self._attention.set()

    async def recover_state(self) -> None:
        """Fetch the agent's current state from GWS and hand on what changed since the last known state.

        Calls that rang and ended while we were away come out through the
        normalizer's diff; anything already handed on keeps its id and is not
        emitted again. The workbins are subscribed to first (every recovery
        follows a login or a CometD re-handshake or reconnect). Raises
        ``GwsError`` when GWS cannot be read.
        """
        await self.apply_state(await self.read_state())

    async def read_state(self) -> Snapshot:
        """The workbin ``Subscribe`` first, then ``GET /me?subresources=*``, ``/me/calls``,
        ``/me/interactions`` and each workbin's content (``recovery.py``); raises ``GwsError``."""
        return await read_snapshot(self.rest)

    async def apply_state(self, snapshot: Snapshot) -> None:
        """Hand on what differs between ``snapshot`` and the last known state (see :meth:`recover_state`)."""
        events = normalize_snapshot(
            snapshot, agent=self.username, state=self._state,
            source=self._source, include_raw=self._include_raw,
        )  # fmt: skip
        await self._emit(events)
        self._notes_waiting = self._notes is not None  # filed while nobody held the agent, maybe
        self.status.recoveries += 1
        logger.info(
            "agent %s state recovered (%d events)",
            self.username,
            len(events),
            extra={"agent": self.username, "events": len(events), "recoveries": self.status.recoveries},
        )

    # -- connection -----------------------------------------------------------------------------

    async def _connect(self) -> None:
        """Log in, handshake, subscribe and recover the state — inside the start gate, so that a
        process starting thousands of sessions has only that many doing this work at once (and
        its lease renewals are not starved by the rest)."""
        if self._start_gate is not None:
            async with self._start_gate:
                await self._connect_ungated()
                await self.apply_state(await self.read_state())
        else:
            await self._connect_ungated()
            await self.apply_state(await self.read_state())

    async def _connect_ungated(self) -> None:
        await self.rest.login()
        if self._channels:
            await start_contact_center_session(self.rest, self._channels, place=self._place)
        if self._store is not None:
            self._state = await self._store.load(self.username)
        elif self._state is None:
            self._state = MemoryState()
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=self._connector,
                connector_owner=self._connector is None,
                cookie_jar=aiohttp.DummyCookieJar(),  # the REST client's jar is the one truth
                json_serialize=json_dumps,
                trace_configs=[self._http_status_watch()],
            )
        self._client = CometdClient(
            self.base_url + "/api/v2/notifications",
            self._http,
            connection_types=ConnectionType.LONG_POLLING,
            connection_timeout=self._connection_timeout,
            ssl=self.rest.ssl,
            auth=GwsExtension(self),
            json_loads=orjson.loads,
        )
        await self._client.open()
        for channel in self._subscriptions:
            await self._client.subscribe(channel)
        self._recovery_reasons.clear()
        if self._ever_connected:
            self.status.reconnects += 1
        self._ever_connected = True
        logger.info(
            "agent session %s connected",
            self.username,
            extra={"agent": self.username, "reconnects": self.status.reconnects},
        )

    async def _close_cometd(self) -> None:
        task, self._receive_task = self._receive_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.close(), timeout=self._close_timeout)
            except asyncio.CancelledError:
                client.abandon()
                raise
            except Exception as exc:  # closing a broken client must not mask the real failure
                client.abandon()
                logger.debug("cometd close failed", extra={"agent": self.username, "error": _describe(exc)})

    async def _relogin(self, reason: str) -> None:
        async with self._relogin_lock:
            logger.info(
                "agent %s logging in again: %s",
                self.username,
                reason,
                extra={"agent": self.username, "reason": reason},
            )
            await self.rest.login()

    def _http_status_watch(self) -> aiohttp.TraceConfig:
        """Log in again as soon as GWS refuses a CometD request with HTTP 401/403.

        aiocometd only sees such a reply as a transport error and keeps retrying
        with the same stale session; the fresh cookie and CSRF token reach it
        through the extension on its next attempt.
        """

        async def on_request_end(
            session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            status = params.response.status
            if status in (401, 403) and (self._relogin_task is None or self._relogin_task.done()):
                self._relogin_task = asyncio.ensure_future(self._relogin_quietly(f"cometd HTTP {status}"))

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_request_end)
        return trace

    async def _relogin_quietly(self, reason: str) -> None:
        try:
            await self._relogin(reason)
        except Exception as exc:  # the transport keeps retrying; run() starts over if it gives up
            self.status.last_error = _describe(exc)
            logger.warning("agent %s: logging in again failed: %s", self.username, self.status.last_error)
            return
        # GWS may have given us a new HTTP session: without its workbin subscription, and maybe
        # after a gap. Recovery subscribes again and reads what was missed (not a reconnect).
        if not self._recovery_reasons:
            self._recovery_backlog = self._client.pending_count if self._client is not None else 0
        self._recovery_reasons.append("login")
        self._attention.set()

    def _request_recovery(self, reason: str) -> None:
        if not self._recovery_reasons:
            # What was received until now predates the state about to be read: it is handled
            # first. What arrives later is handled after the snapshot (see MessageLoop._pump).
            self._recovery_backlog = self._client.pending_count if self._client is not None else 0
        self._recovery_reasons.append(reason)
        self.status.reconnects += 1
        self.status.connected = self._live
        self._attention.set()
        logger.info(
            "agent %s cometd reconnected (%s)",
            self.username,
            reason,
            extra={"agent": self.username, "reason": reason},
        )

    def _mark_disconnected(self, reason: str) -> None:
        if self.status.connected:
            logger.info(
                "agent %s cometd connection lost: %s",
                self.username,
                reason,
                extra={"agent": self.username, "reason": reason},
            )
        self.status.connected = False
        self.status.last_error = reason

    async def _sleep_unless_stopped(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            pass
