"""``SessionSet``: the agent sessions one process runs, each in a task of its own.

The :class:`~bridge.gws.pool.SessionPool` decides which agents this process holds (leases);
the set runs their :class:`~bridge.gws.session.AgentSession`: it starts one, stops some
gracefully (the message in hand is finished, then they are cancelled after ``stop_timeout``),
hands over the ones whose ``run`` ended by itself, and wakes a session whose agent has a note.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bridge.config.gws import AgentConfig
from bridge.gws.notes import AgentNotes, NotesError
from bridge.gws.session import AgentSession, SessionStatus

__all__ = ["EndedSession", "SessionSet"]

# It logs as part of the pool, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.pool")


@dataclass(frozen=True)
class EndedSession:
    """A session whose ``run`` returned by itself: ``superseded``, or ended by ``error``."""

    agent: AgentConfig
    superseded: bool
    error: BaseException | None


class SessionSet:
    """Runs one :class:`AgentSession` per agent, made by ``make_session``.

    ``stop_timeout``: seconds a stopping session may take to finish the message in hand.
    """

    def __init__(self, make_session: Callable[[AgentConfig], AgentSession], *, stop_timeout: float) -> None:
        self._make_session = make_session
        self._stop_timeout = stop_timeout
        self._agents: dict[str, AgentConfig] = {}
        self._sessions: dict[str, AgentSession] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, agent: object) -> bool:
        return agent in self._sessions

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._sessions))

    def snapshots(self) -> list[SessionStatus]:
        """A copy of every session's status, by agent name."""
        return [self._sessions[name].snapshot() for name in sorted(self._sessions)]

    def start(self, agent: AgentConfig) -> None:
        """Start ``agent``'s session (returns at once)."""
        session = self._make_session(agent)
        self._agents[agent.username] = agent
        self._sessions[agent.username] = session
        self._tasks[agent.username] = asyncio.create_task(
            session.run(), name=f"agent-session:{agent.username}"
        )

    def note_filed(self, agent: str) -> None:
        """Wake ``agent``'s session, if this process runs it: a note waits for it."""
        session = self._sessions.get(agent)
        if session is not None:
            session.note_filed()

    async def wake_for_notes(self, notes: AgentNotes) -> None:
        """Wake the sessions whose agent has notes waiting (a wake-up lost while Redis's pub/sub
        reconnected, or one published before the session started)."""
        if not self._sessions:
            return
        try:
            waiting = await notes.waiting(sorted(self._sessions))
        except NotesError as exc:
            logger.warning("notes not counted", extra={"error": str(exc)})
            return
        for agent in waiting:
            self.note_filed(agent)

    async def stop(self, names: Sequence[str]) -> None:
        """Stop sessions gracefully (the message in hand is finished), cancel after ``stop_timeout``."""
        tasks = []
        for name in names:
            session = self._sessions.pop(name, None)
            task = self._tasks.pop(name, None)
            self._agents.pop(name, None)
            if session is None or task is None:
                continue
            await session.stop()
            tasks.append(task)
            # Tracked until done, so that stop_retiring() waits for them even if this call is cancelled.
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self._stop_timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop_retiring(self) -> None:
        """Wait for the sessions a cancelled :meth:`stop` was still stopping (cancel after the timeout)."""
        if not self._retiring:
            return
        _, pending = await asyncio.wait(set(self._retiring), timeout=self._stop_timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def take_ended(self) -> list[EndedSession]:
        """The sessions whose ``run`` returned by itself since the last call; they leave the set."""
        ended = []
        for name, task in list(self._tasks.items()):
            if not task.done():
                continue
            session = self._sessions.pop(name)
            del self._tasks[name]
            agent = self._agents.pop(name)
            error = None
            if not session.superseded:
                with contextlib.suppress(asyncio.CancelledError):
                    error = task.exception()
            ended.append(EndedSession(agent, session.superseded, error))
        return ended
