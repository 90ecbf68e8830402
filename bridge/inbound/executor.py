"""Runs a validated :class:`Command` on GWS as its agent and records its status.

Steps: fetch what the translation needs (cached), :func:`translate`, make sure
the agent's outcome listener is subscribed and register the pending outcome,
send the one GWS request, file the translation's note for the agent's
subscriber when it has one (a change GWS may not notify: the subscriber
reports it, ``bridge.gws.notes``), record ``accepted`` (or ``succeeded`` for
operations GWS settles synchronously), then settle the status in the
background from CometD (``succeeded`` / ``failed`` / ``unknown`` after
``outcome_timeout``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from bridge import tracing
from bridge.commands import Command, Need, requirements, translate
from bridge.config.inbound import InboundSettings
from bridge.errors import CommandError, GwsError
from bridge.gws.notes import AgentNotes, NotesError
from bridge.inbound.listener import ListenerPool
from bridge.inbound.metrics import ReceiverMetrics
from bridge.inbound.outcomes import CommandOutcome, CommandStatus, OutcomeTracker, Pending
from bridge.inbound.problems import Problem, problem_for_command_error, problem_for_gws_error
from bridge.inbound.sessions import CommandSessions
from bridge.inbound.store import CommandStore

__all__ = ["CommandExecutor", "Execution"]

logger = logging.getLogger(__name__)


@dataclass
class Execution:
    """A command GWS accepted: its status record, and the pending outcome when there is one."""

    record: dict[str, Any]
    pending: Pending | None
    saved: asyncio.Future[None] | None = None  # the record's save, when deferred (``defer_save``)

    @property
    def settled(self) -> bool:
        return self.record["status"] != CommandStatus.ACCEPTED.value


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class CommandExecutor:
    """Performs commands; one per receiver."""

    def __init__(
        self,
        sessions: CommandSessions,
        store: CommandStore,
        settings: InboundSettings,
        metrics: ReceiverMetrics,
        *,
        tracker: OutcomeTracker | None = None,
        listeners: ListenerPool | None = None,
        notes: AgentNotes | None = None,
    ) -> None:
        self.sessions = sessions
        self.notes = notes
        self.tracker = tracker or OutcomeTracker()
        self.listeners = listeners or ListenerPool(self.tracker, idle_timeout=settings.listener_idle_timeout)
        self._store = store
        self._settings = settings
        self._metrics = metrics
        self._background: set[asyncio.Task[None]] = set()
        # Counted when /metrics is scraped, not per command (running() walks every listener).
        metrics.listeners.set_function(lambda: len(self.listeners.running()))

    @tracing.traced("command", attributes=lambda self, command, client, **_: {
        "gwsb.command.id": command.id, "gwsb.command.action": command.action, "gwsb.agent": command.agent,
        "gwsb.command.dialect": command.dialect.value, "gwsb.client": client})  # fmt: skip
    async def execute(self, command: Command, client: str, *, defer_save: bool = False) -> Execution:
        """Perform ``command`` for ``client``; raises :class:`Problem` when it is refused.

        A refusal before the GWS operation (unknown agent state, unknown
        disposition, GWS unreachable while reading settings) makes no GWS
        operation call. A GWS refusal carries GWS's statusCode and message.

        ``defer_save``: the status record's save is started, not awaited: the caller must await
        :attr:`Execution.saved` (it raises the store's :class:`Problem`) before it answers, and can
        so send another write in the same Redis round trip.
        """
        rest = self.sessions.client(command.agent)
        try:
            context = await self.sessions.context(command.agent, requirements(command))
            request, rule = translate(command, context)
        except CommandError as exc:
            raise problem_for_command_error(exc, command_id=command.id) from exc
        except GwsError as exc:
            raise problem_for_gws_error(exc, command_id=command.id) from exc
        pending: Pending | None = None
        listener_error: str | None = None
        if not rule.synchronous:
            try:
                await self.listeners.ensure(command.agent, rest)
                pending = self.tracker.register(command.agent, command.id, rule)
            except Exception as exc:  # no CometD: the command still runs, its outcome is unknowable
                listener_error = f"CometD listener unavailable: {type(exc).__name__}"
                logger.warning(
                    "outcome listener unavailable", extra={"agent": command.agent, "error": listener_error}
                )
        record: dict[str, Any] = {
            "id": command.id,
            "client": client,
            "agent": command.agent,
            "action": command.action,
            "dialect": command.dialect.value,
            "created_at": _now(),
        }
        try:
            with tracing.span(f"GWS {request.method}", kind=tracing.SpanKind.CLIENT) as span:
                if span is not None:
                    span.set_attributes(
                        {"http.request.method": request.method, "url.path": "/api/v2" + request.path}
                    )
                reply = await rest.perform(request)
        except GwsError as exc:
            if pending is not None:
                self.tracker.discard(pending)
            problem = problem_for_gws_error(exc, command_id=command.id)
            record.update(status=CommandStatus.FAILED.value, updated_at=_now(), error=problem.body())
            await self._store.save_status(record, self._settings.idempotency_ttl)
            self._metrics.commands.labels(command.action, "failed").inc()
            raise problem from exc
        if command.action in {"session.start", "session.end"}:
            self.sessions.forget(command.agent, Need.DEVICE)
        if rule.note is not None and await self._file_note(command, rule.note) and pending is not None:
            self._track(self._settle_from_note(command, pending), f"note-{command.id}")
        record.update(updated_at=_now(), gws_reply=reply)
        if rule.synchronous:
            record["status"] = CommandStatus.SUCCEEDED.value
        elif pending is None:
            record.update(status=CommandStatus.UNKNOWN.value, error={"detail": listener_error})
        else:
            record["status"] = CommandStatus.ACCEPTED.value
        save = self._store.save_status(record, self._settings.idempotency_ttl)
        saved: asyncio.Future[None] | None = None
        if defer_save:  # runs before the settle task below: 'accepted' is never written after it
            saved = asyncio.ensure_future(save)
        else:
            await save
        if pending is not None:
            self._track(self._settle(record, pending), f"settle-{command.id}")
        else:
            self._metrics.commands.labels(command.action, record["status"]).inc()
        logger.info(
            "command performed",
            extra={"command_id": command.id, "agent": command.agent, "action": command.action,
                   "status": record["status"], "client": client},
        )  # fmt: skip
        return Execution(record, pending, saved)

    def _track(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _file_note(self, command: Command, note: Mapping[str, Any]) -> bool:
        """Tell the agent's subscriber what GWS may never notify (naming the command, so that
        its handling settles it); True if filed. The command has succeeded at GWS whatever
        happens here, so a failure is logged, not raised."""
        if self.notes is None:
            logger.warning(
                "no note store: a change GWS does not notify is not reported",
                extra={"command_id": command.id, "agent": command.agent, "action": command.action},
            )
            return False
        try:
            await self.notes.file(command.agent, {**note, "command": command.id})
        except NotesError as exc:
            logger.warning(
                "note not filed: %s",
                exc,
                extra={"command_id": command.id, "agent": command.agent, "action": command.action},
            )
            return False
        return True

    async def _settle_from_note(self, command: Command, pending: Pending) -> None:
        """``succeeded`` once the agent's subscriber has handed on the note's events (a disposition
        on a released call, which GWS never notifies), unless CometD settled it first."""
        timeout = self._settings.outcome_timeout
        if self.notes is not None and await self.notes.wait_handled(command.id, timeout):
            self.tracker.settle(pending, CommandOutcome(CommandStatus.SUCCEEDED))

    async def wait(self, execution: Execution, seconds: float) -> CommandOutcome | None:
        """The outcome of ``execution`` if it settles within ``seconds`` (None if not, or nothing pending)."""
        if execution.pending is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(execution.pending.future), seconds)
        except TimeoutError:
            return None

    @tracing.traced("command outcome")
    async def _settle(self, record: dict[str, Any], pending: Pending) -> None:
        outcome = await self.tracker.wait(pending, self._settings.outcome_timeout)
        tracing.set_attribute("gwsb.command.status", outcome.status.value)
        settled = dict(record, status=outcome.status.value, updated_at=_now())
        if outcome.error:
            settled["error"] = {"detail": outcome.error, "gws_message": outcome.error}
        if outcome.notification is not None:
            settled["notification"] = outcome.notification
        try:
            await self._store.save_status(settled, self._settings.idempotency_ttl)
        except Problem:
            logger.warning("command status not saved", extra={"command_id": record["id"]})
        self._metrics.commands.labels(record["action"], outcome.status.value).inc()

    async def aclose(self) -> None:
        """Let pending outcomes go (they stay ``accepted`` in the store) and stop the listeners."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.listeners.aclose()
        await self.sessions.aclose()
