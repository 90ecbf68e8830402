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
seen live and again in a recovery snapshot is handed on once.

The session is put together from parts it owns: the CometD client and the auth extension
(``cometd.py``), which tells the session what happens to the connection through
:class:`~bridge.gws.cometd.ConnectionEvents`; the :class:`~bridge.gws.message_loop.MessageLoop`
(step 5 and the order of recoveries) and its :class:`~bridge.gws.handoff.Handoff` (normalize →
publish → save); :class:`~bridge.gws.relogin.Relogin`; what recovery reads (``recovery.py``);
``Backoff`` (``backoff.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

import aiohttp

from bridge.config.gws import GwsSettings
from bridge.events import EventSink
from bridge.gws.backoff import Backoff
from bridge.gws.cometd import CometdClient
from bridge.gws.connection import CometdConnection
from bridge.gws.handoff import Handoff
from bridge.gws.login_rate import LoginRateLimiter
from bridge.gws.message_loop import MessageLoop
from bridge.gws.notes import AgentNotes
from bridge.gws.operations import start_contact_center_session
from bridge.gws.recovery import read_snapshot
from bridge.gws.relogin import Relogin
from bridge.gws.rest import GwsRestClient
from bridge.gws.state_store import StateStore
from bridge.gws.status import SessionStatus, describe_error
from bridge.normalize import Snapshot
from bridge.normalize.state import StaleStateError

__all__ = ["DEFAULT_CHANNELS", "AgentSession", "Backoff", "SessionStatus"]

logger = logging.getLogger(__name__)

#: CometD channels every agent session subscribes to, one round trip each, in this order.
#: ``/v2/me`` carries the password-change notifications (a Bayeux ``*`` matches one segment, so
#: ``/v2/me/*`` does not include it); it comes last so that calls, devices and interactions
#: are subscribed to as early after a handshake as before: every round trip before them widens
#: the window whose notifications only recovery can make up for (e2e fault tests lost the
#: ringing of calls started in it).
DEFAULT_CHANNELS: tuple[str, ...] = ("/v2/me/*", "/notifications/services", "/v2/me")


class AgentSession:
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
    tokens and cookies never appear in logs or in ``status.last_error``. It is the
    :class:`~bridge.gws.cometd.ConnectionEvents` of its CometD client's extension.
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
        self._channels = list(channels)
        self._place = place
        self._backoff = Backoff(backoff_initial, backoff_cap)
        self._start_gate = start_gate
        self.rest = GwsRestClient.from_settings(
            gws, username, password, connector=connector, login_limiter=login_limiter
        )
        self.status = SessionStatus(agent=username)
        self.relogin = Relogin(self.rest, self.status, after_background_login=self._recover_after_login)
        self.handoff = Handoff(
            username, sink=sink, status=self.status, store=state_store, source=source, include_raw=include_raw
        )
        self.loop = MessageLoop(
            self.handoff, status=self.status, notes=notes, read_state=self.read_state, relogin=self.relogin
        )
        self.cometd = CometdConnection(
            self.rest, subscriptions=subscriptions, events=self, connector=connector,
            trace=self.relogin.trace_config(), connection_timeout=connection_timeout,
            close_timeout=close_timeout,
        )  # fmt: skip
        self._stopping = asyncio.Event()
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
                    client = await self._connect()
                    self._live = True  # connected means subscribed *and* caught up
                    self.status.connected = True
                    self._backoff.reset()
                    await self.loop.pump(client, self._stopping)
                except asyncio.CancelledError:
                    raise
                except StaleStateError as exc:
                    # Another holder loaded this agent's state: it owns the agent now. Starting
                    # over would load the state again and fence *it* out, so this session ends.
                    self.superseded = True
                    self.status.last_error = describe_error(exc)
                    logger.warning(
                        "agent %s taken over by another holder; session ends",
                        self.username,
                        extra={"agent": self.username},
                    )
                    return
                except Exception as exc:
                    self.status.last_error = describe_error(exc)
                    logger.warning(
                        "agent session %s failed; starting over: %s",
                        self.username,
                        self.status.last_error,
                        extra={"agent": self.username, "error": self.status.last_error},
                    )
                finally:
                    self._live = False
                    self.status.connected = False
                    await self.cometd.close()
                if not self._stopping.is_set():
                    await self._sleep_unless_stopped(self._backoff.next_delay())
        finally:
            await self.cometd.aclose()
            await self.relogin.aclose()
            await self.rest.aclose()
            logger.info("agent session %s closed", self.username, extra={"agent": self.username})

    async def stop(self) -> None:
        """Ask :meth:`run` to finish after the message in hand has been handled."""
        self._stopping.set()

    def note_filed(self) -> None:
        """A note was filed for this agent (``bridge.gws.notes``): take it after the message in hand."""
        self.loop.note_filed()

    async def recover_state(self) -> None:
        """Fetch the agent's current state from GWS and hand on what changed since the last known state.

        Calls that rang and ended while we were away come out through the
        normalizer's diff; anything already handed on keeps its id and is not
        emitted again. The workbins are subscribed to first (every recovery
        follows a login or a CometD re-handshake or reconnect). Raises
        ``GwsError`` when GWS cannot be read.
        """
        await self.loop.apply_state(await self.read_state())

    async def read_state(self) -> Snapshot:
        """The workbin ``Subscribe`` first, then ``GET /me?subresources=*``, ``/me/calls``,
        ``/me/interactions`` and each workbin's content (``recovery.py``); raises ``GwsError``."""
        return await read_snapshot(self.rest)

    # -- what the CometD extension reports (ConnectionEvents) -----------------------------------

    def cometd_connected(self) -> None:
        """A ``/meta/connect`` succeeded: connected again, if caught up."""
        self.status.connected = self._live

    def cometd_lost(self, reason: str) -> None:
        """A ``/meta/connect`` failed: not connected until one succeeds."""
        if self.status.connected:
            logger.info(
                "agent %s cometd connection lost: %s",
                self.username,
                reason,
                extra={"agent": self.username, "reason": reason},
            )
        self.status.connected = False
        self.status.last_error = reason

    def cometd_needs_recovery(self, reason: str) -> None:
        """Re-handshaken or reconnected after a gap: recover the state after what was received."""
        self.loop.request_recovery(reason, received=self.cometd.received)
        self.status.reconnects += 1
        self.status.connected = self._live
        logger.info(
            "agent %s cometd reconnected (%s)",
            self.username,
            reason,
            extra={"agent": self.username, "reason": reason},
        )

    # -- connection -----------------------------------------------------------------------------

    async def _connect(self) -> CometdClient:
        """Log in, handshake, subscribe and recover the state — inside the start gate, so that a
        process starting thousands of sessions has only that many doing this work at once (and
        its lease renewals are not starved by the rest)."""
        if self._start_gate is None:
            return await self._connect_and_recover()
        async with self._start_gate:
            return await self._connect_and_recover()

    async def _connect_and_recover(self) -> CometdClient:
        await self.rest.login()
        if self._channels:
            await start_contact_center_session(self.rest, self._channels, place=self._place)
        await self.handoff.load_state()
        client = await self.cometd.open()
        self.loop.forget_recovery()
        if self._ever_connected:
            self.status.reconnects += 1
        self._ever_connected = True
        logger.info(
            "agent session %s connected",
            self.username,
            extra={"agent": self.username, "reconnects": self.status.reconnects},
        )
        await self.recover_state()
        return client

    def _recover_after_login(self) -> None:
        # GWS may have given us a new HTTP session: without its workbin subscription, and maybe
        # after a gap. Recovery subscribes again and reads what was missed (not a reconnect).
        self.loop.request_recovery("login", received=self.cometd.received)

    async def _sleep_unless_stopped(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            pass
