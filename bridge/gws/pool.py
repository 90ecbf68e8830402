"""``SessionPool``: many agent sessions in one process, agents shared between processes by leases.

Every ``tick`` (a third of the lease TTL) the pool:

1. heartbeats its membership and learns how many subscriber processes are alive;
2. renews its leases; an agent whose lease was lost (taken over after a stall)
   has its session stopped at once;
3. computes its fair share (an even split over the live processes, capped by
   each one's capacity, what a small one cannot take going to the others);
   holding more than that (a process joined), it stops the surplus sessions
   cleanly and releases their leases so the newcomer can take them;
4. holding fewer, it claims free leases and starts those agents' sessions
   (with a login rate, no more per round than can log in within it).
   A new holder loads the agent's last known state from Redis and recovers
   the rest from GWS, so a dead process's agents carry on where it stopped;
5. wakes the sessions whose agents have notes from the receiver waiting
   (``notes.py``; a filed note also wakes its session at once).

The sessions themselves run in a :class:`~bridge.gws.session_set.SessionSet`. All sessions
share one aiohttp connector. A clean :meth:`SessionPool.stop`
stops the sessions, releases every lease and leaves the membership, so the
other processes take over at their next tick instead of after the TTL.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
from redis.asyncio import Redis

from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.keys import DEFAULT_KEYS
from bridge.events import EventSink
from bridge.gws.leases import LeaseError, LeaseManager, fair_shares, make_owner_token
from bridge.gws.login_rate import LoginRateLimiter
from bridge.gws.notes import AgentNotes
from bridge.gws.session import DEFAULT_CHANNELS, AgentSession, SessionStatus
from bridge.gws.session_set import SessionSet
from bridge.gws.state_store import StateStore

__all__ = ["PoolStatus", "SessionPool"]

logger = logging.getLogger(__name__)


@dataclass
class PoolStatus:
    """The pool at a glance: this process's leases and each of its sessions."""

    owner: str
    agents_total: int
    members: int
    owned: int
    connected: int
    sessions: list[SessionStatus] = field(default_factory=list)


class SessionPool:
    """Runs the :class:`AgentSession` of every agent this process holds a lease for.

    ``capacity``: most agents this process holds (default: all). ``lease_ttl``:
    seconds before a dead process's agents are free for the others.
    ``state_store``: shared state (a ``RedisStateStore`` in production), loaded
    by whichever process holds an agent. ``max_concurrent_starts`` bounds how
    many sessions log in and handshake at once (a start-up storm is the
    simulator's or GWS's worst moment); ``login_rate`` (log-ins per second,
    None = unpaced) and ``login_burst`` pace every log-in of every session of
    the pool through one :class:`LoginRateLimiter`, so that a start, a takeover
    or GWS dropping every session never storms GWS.
    """

    def __init__(
        self,
        agents: Sequence[AgentConfig],
        *,
        gws: GwsSettings,
        sink: EventSink,
        redis: Redis,
        state_store: StateStore | None = None,
        capacity: int | None = None,
        lease_ttl: float = 15.0,
        lease_prefix: str = DEFAULT_KEYS.leases,
        owner: str | None = None,
        source: str = "gws-bridge",
        include_raw: bool = False,
        channels: Sequence[str] = (),
        subscriptions: Sequence[str] = DEFAULT_CHANNELS,
        max_concurrent_starts: int = 32,
        login_rate: float | None = None,
        login_burst: int = 1,
        stop_timeout: float = 5.0,
        notes: AgentNotes | None = None,
    ) -> None:
        names = [agent.username for agent in agents]
        if len(set(names)) != len(names):
            raise ValueError("agent user names must be unique")
        if capacity is not None and capacity < 0:
            raise ValueError("capacity must be >= 0")
        self._agents = {agent.username: agent for agent in agents}
        self._order = names[:]
        random.shuffle(self._order)  # processes scan in different orders: fewer claim collisions
        self._gws = gws
        self._sink = sink
        self._store = state_store
        self.capacity = len(names) if capacity is None else capacity
        self.leases = LeaseManager(
            redis, owner=owner or make_owner_token(), ttl=lease_ttl, prefix=lease_prefix
        )
        self._source = source
        self._include_raw = include_raw
        self._channels = list(channels)
        self._subscriptions = list(subscriptions)
        self._start_gate = asyncio.Semaphore(max(1, max_concurrent_starts))
        self._login_limiter = LoginRateLimiter(login_rate, login_burst) if login_rate else None
        # Claim no more per round than can log in before the next one: agents claimed only to
        # wait in the log-in queue could not be handed over promptly to a process joining now.
        self._claims_per_tick = login_burst + max(1, int(login_rate * lease_ttl / 3)) if login_rate else None
        self._notes = notes
        self._notes_task: asyncio.Task[None] | None = None
        self.tick = lease_ttl / 3
        self._sessions = SessionSet(self._new_session, stop_timeout=stop_timeout)
        self._connector: aiohttp.TCPConnector | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._members = 1
        self._last_renewed = time.monotonic()
        self._stopped = asyncio.Event()
        self._stopping = False

    @property
    def owner(self) -> str:
        """This process's owner token (the value of its lease keys)."""
        return self.leases.owner

    @property
    def owned_agents(self) -> set[str]:
        """Agents whose sessions this process runs now."""
        return set(self._sessions)

    def status(self) -> PoolStatus:
        """A snapshot of the pool and its sessions."""
        sessions = self._sessions.snapshots()
        return PoolStatus(
            owner=self.owner,
            agents_total=len(self._agents),
            members=self._members,
            owned=len(sessions),
            connected=sum(1 for s in sessions if s.connected),
            sessions=sessions,
        )

    async def start(self) -> None:
        """Open the shared connector and start managing leases (returns at once)."""
        if self._loop_task is not None:
            raise RuntimeError("pool already started")
        self._connector = aiohttp.TCPConnector(limit=0)  # TLS is chosen per request
        logger.info(
            "session pool %s starting: %d agents, capacity %d",
            self.owner,
            len(self._agents),
            self.capacity,
            extra={
                "owner": self.owner,
                "agents": len(self._agents),
                "capacity": self.capacity,
                "lease_ttl": self.leases.ttl,
            },
        )
        self._loop_task = asyncio.create_task(self._manage(), name="session-pool")
        if self._notes is not None:
            self._notes_task = asyncio.create_task(
                self._notes.listen(self._sessions.note_filed), name="agent-notes"
            )

    async def wait(self) -> None:
        """Return when the pool has stopped."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop every session, release every lease, leave the membership, close the connector."""
        # The flag ends the lease loop even when its cancellation is swallowed: redis-py can turn
        # a cancelled command into a RedisError (a LeaseError here), which the loop survives.
        self._stopping = True
        for task in (self._loop_task, self._notes_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._loop_task = self._notes_task = None
        await self._sessions.stop(list(self._sessions))
        await self._sessions.stop_retiring()  # sessions a cancelled hand-over was still stopping
        try:
            released = await self.leases.release(self._agents)  # only ours are deleted
            await self.leases.leave()
            logger.info(
                "session pool %s stopped, %d leases released",
                self.owner,
                released,
                extra={"owner": self.owner, "released": released},
            )
        except LeaseError as exc:
            logger.warning("releasing leases failed; they expire after the TTL", extra={"error": str(exc)})
        if self._connector is not None:
            await self._connector.close()
            self._connector = None
        self._stopped.set()

    # -- lease management -----------------------------------------------------------------------

    async def _manage(self) -> None:
        while not self._stopping:
            try:
                await self._rebalance()
            except LeaseError as exc:
                logger.warning("lease round failed: %s", exc, extra={"owner": self.owner, "error": str(exc)})
                if time.monotonic() - self._last_renewed > self.leases.ttl and self._sessions:
                    # Our leases have expired by now: another process may be running these agents.
                    logger.error(
                        "leases not renewed within the TTL; stopping all sessions",
                        extra={"owner": self.owner, "agents": len(self._sessions)},
                    )
                    await self._sessions.stop(list(self._sessions))
            try:
                await self._reap_finished()
            except LeaseError as exc:
                logger.warning("lease release failed", extra={"owner": self.owner, "error": str(exc)})
            if self._notes is not None:
                await self._sessions.wake_for_notes(self._notes)
            await asyncio.sleep(self.tick)

    async def _rebalance(self) -> None:
        members = await self.leases.heartbeat(self.capacity)
        self._members = len(members)
        lost = await self.leases.renew(self._sessions)
        self._last_renewed = time.monotonic()
        if lost:
            logger.warning(
                "agent leases lost to another process: %s", sorted(lost), extra={"agents": sorted(lost)}
            )
            await self._sessions.stop(sorted(lost))
        share = fair_shares(len(self._agents), {**members, self.owner: self.capacity})[self.owner]
        surplus = len(self._sessions) - share
        if surplus > 0:
            handover = sorted(self._sessions)[:surplus]
            logger.info(
                "handing %d agents over (share %d)",
                len(handover),
                share,
                extra={"agents": len(handover), "share": share},
            )
            await self._sessions.stop(handover)
            await self.leases.release(handover)
        elif surplus < 0:
            await self._claim(
                -surplus if self._claims_per_tick is None else min(-surplus, self._claims_per_tick)
            )

    async def _claim(self, wanted: int) -> None:
        candidates = [name for name in self._order if name not in self._sessions]
        if not candidates:
            return
        owners = await self.leases.owners(candidates)
        free = [name for name in candidates if owners.get(name) is None][:wanted]
        claimed = await self.leases.claim_many(free)
        for name in claimed:
            self._sessions.start(self._agents[name])
        if claimed:
            logger.info(
                "%d agents claimed, %d held",
                len(claimed),
                len(self._sessions),
                extra={"owner": self.owner, "claimed": len(claimed), "held": len(self._sessions)},
            )

    # -- sessions -------------------------------------------------------------------------------

    def _new_session(self, agent: AgentConfig) -> AgentSession:
        return AgentSession(
            self._gws,
            agent.username,
            agent.password.get_secret_value(),
            sink=self._sink,
            state_store=self._store,
            connector=self._connector,
            source=self._source,
            include_raw=self._include_raw,
            channels=self._channels,
            subscriptions=self._subscriptions,
            start_gate=self._start_gate,
            login_limiter=self._login_limiter,
            notes=self._notes,
        )

    async def _reap_finished(self) -> None:
        """Deal with sessions whose ``run`` returned by itself (superseded, or a bug)."""
        for ended in self._sessions.take_ended():
            name = ended.agent.username
            if ended.superseded:
                # Another holder has the agent's state: let it (or whoever claims next) have it.
                await self.leases.release([name])
                continue
            logger.error(
                "agent session %s ended unexpectedly; restarting",
                name,
                extra={"agent": name, "error": repr(ended.error)},
            )
            self._sessions.start(ended.agent)
