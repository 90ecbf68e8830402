"""The message loop of an agent session: receiving, batching, recovering, taking notes.

:class:`MessageLoop` takes one agent's received CometD messages and gives them to its
:class:`~bridge.gws.handoff.Handoff` (normalize → one ``sink.publish`` → one state save). A loop
that has fallen behind takes the messages already queued (up to 64) together. Notes filed for
the agent (``bridge.gws.notes``) are handled the same way, between messages. A recovery asked
for (:meth:`MessageLoop.request_recovery`) reads GWS's state at once and applies it after the
messages received before the request.

The :class:`~bridge.gws.session.AgentSession` owns one loop for its lifetime (the normalizer's
state and the ids already handed on outlive a connection) and runs :meth:`MessageLoop.pump`
on each CometD client it connects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.errors import BridgeError
from bridge.gws.cometd import CometdClient
from bridge.gws.handoff import Handoff
from bridge.gws.notes import AgentNotes, NotesError
from bridge.gws.status import SessionStatus, describe_error
from bridge.normalize import Snapshot

__all__ = ["CometdSubscriptionError", "MessageLoop"]

# The loop logs as part of the agent session, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.session")

# Messages already queued behind the one received that are handled with it (one publish, one save).
_MAX_MESSAGES_PER_HANDOFF = 64


class CometdSubscriptionError(BridgeError):
    """GWS refused to re-subscribe a channel after a re-handshake; the session starts over."""


class MessageLoop:
    """Receives and batches one agent's messages and notes; recovers its state when asked to.

    ``handoff``: what turns messages and snapshots into events and saves the state.
    ``status``: the session's status (the loop counts ``recoveries`` and sets ``last_error``).
    ``notes``: the notes the receiver files for the agent (``None``: none). ``read_state``:
    reads the agent's state from GWS (raises ``GwsError``); ``relogin``: logs the agent in
    again (before reading the state after a re-handshake).
    """

    def __init__(
        self,
        handoff: Handoff,
        *,
        status: SessionStatus,
        notes: AgentNotes | None,
        read_state: Callable[[], Awaitable[Snapshot]],
        relogin: Callable[[str], Awaitable[None]],
    ) -> None:
        self.handoff = handoff
        self.agent = handoff.agent
        self.status = status
        self._notes = notes
        self._read_state = read_state
        self._relogin = relogin
        self._receive_task: asyncio.Task[dict[str, Any]] | None = None
        self._recovery_reasons: list[str] = []
        self._recovery_backlog = 0
        self._attention = asyncio.Event()
        self._notes_waiting = False

    def request_recovery(self, reason: str, *, received: int) -> None:
        """Read GWS's state at the next turn of :meth:`pump` and apply it.

        ``received``: how many messages the CometD client holds now. They predate the state
        about to be read, so they are handled first (when no recovery is already asked for);
        what arrives later is handled after the snapshot. ``reason`` ``"re-handshake"`` logs in
        again before reading; a ``"re-subscribe …"`` reason ends :meth:`pump` with
        :class:`CometdSubscriptionError`.
        """
        if not self._recovery_reasons:
            self._recovery_backlog = received
        self._recovery_reasons.append(reason)
        self._attention.set()

    def forget_recovery(self) -> None:
        """Drop what was asked for until now: a new connection, whose own recovery follows."""
        self._recovery_reasons.clear()

    def note_filed(self) -> None:
        """A note was filed for the agent: take it after the message in hand."""
        if self._notes is not None:
            self._notes_waiting = True
            self._attention.set()

    async def apply_state(self, snapshot: Snapshot) -> None:
        """Hand on what differs between ``snapshot`` and the last known state.

        Calls that rang and ended while we were away come out through the normalizer's diff;
        anything already handed on keeps its id and is not emitted again.
        """
        events = await self.handoff.hand_on_snapshot(snapshot)
        self._notes_waiting = self._notes is not None  # filed while nobody held the agent, maybe
        self.status.recoveries += 1
        logger.info(
            "agent %s state recovered (%d events)",
            self.agent,
            events,
            extra={"agent": self.agent, "events": events, "recoveries": self.status.recoveries},
        )

    async def pump(self, client: CometdClient, stopping: asyncio.Event) -> None:
        """Handle ``client``'s messages until ``stopping`` is set; raises when the client fails."""
        stop_task = asyncio.ensure_future(stopping.wait())
        attention_task: asyncio.Future[Any] | None = None
        try:
            while True:
                if self._recovery_reasons:
                    await self._recover(client)
                if self._notes_waiting:
                    await self._take_notes()
                if self._receive_task is None:
                    self._receive_task = asyncio.ensure_future(client.receive())
                if attention_task is None:
                    attention_task = asyncio.ensure_future(self._attention.wait())
                done, _ = await asyncio.wait(
                    {self._receive_task, attention_task, stop_task}, return_when=asyncio.FIRST_COMPLETED
                )
                if attention_task in done:
                    self._attention.clear()
                    attention_task = None
                if self._receive_task in done:
                    task, self._receive_task = self._receive_task, None
                    await self._handle_received(client, task.result())
                if stop_task in done:
                    return
        finally:
            for pending in (stop_task, attention_task):
                if pending is not None and not pending.done():
                    pending.cancel()
            receiving, self._receive_task = self._receive_task, None
            if receiving is not None and not receiving.done():
                receiving.cancel()
                await asyncio.gather(receiving, return_exceptions=True)

    async def _recover(self, client: CometdClient) -> None:
        """Read GWS's state now, and apply it once what was received before has been handled.

        The state is read at once, while the backlog is handled: the sooner it is read, the
        fewer changes reach us only through it, and GWS lists an ended call for a while only.
        The messages received before recovery was asked for are older than the state read,
        so they go first; the ones arriving later are handled after it.
        """
        refused = [r for r in self._recovery_reasons if r.startswith("re-subscribe")]
        if refused:  # no subscription, no notifications: start over with a new client
            await self._drain_received(client)
            raise CometdSubscriptionError(refused[0])
        rehandshake = "re-handshake" in self._recovery_reasons
        self._recovery_reasons.clear()
        reading = asyncio.ensure_future(self._read_state_after(rehandshake))
        try:
            await self._drain_received(client)
        except BaseException:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            raise
        await self.apply_state(await reading)

    async def _read_state_after(self, rehandshake: bool) -> Snapshot:
        if rehandshake:
            # GWS forgot our CometD client, maybe our HTTP session too (a node
            # restart): log in again so REST and CometD share one fresh session.
            await self._relogin("re-handshake")
        return await self._read_state()

    async def _take_notes(self) -> None:
        """Handle the notes filed for this agent (``bridge.gws.notes``) like messages, oldest
        first; each leaves the list once its events are handed on and the state saved."""
        self._notes_waiting = False
        notes = self._notes
        if notes is None:
            return
        try:
            while batch := await notes.peek(self.agent, _MAX_MESSAGES_PER_HANDOFF):
                await self.handoff.hand_on(batch)
                await notes.drop(self.agent, len(batch))
                await notes.mark_handled(batch)
                if len(batch) < _MAX_MESSAGES_PER_HANDOFF:
                    return
        except NotesError as exc:  # the pool's next tick finds them still waiting
            self.status.last_error = describe_error(exc)
            logger.warning(
                "agent %s: notes not taken: %s",
                self.agent,
                self.status.last_error,
                extra={"agent": self.agent, "error": self.status.last_error},
            )

    async def _drain_received(self, client: CometdClient) -> None:
        """Handle what was received before recovery was asked for: it is older than the snapshot to come.

        Only that much: the client is subscribed again by then, and on a busy agent new
        messages keep arriving while these are handed on. Each of them handled before
        the state is read widens the window in which GWS state changes reach us only as
        the snapshot (their own notifications then arrive after it, and change nothing);
        waiting for a quiet moment would put the recovery off for as long as calls keep coming.
        """
        task = self._receive_task
        if task is not None and task.done():
            self._receive_task = None
            await self._handle_received(client, task.result())
        backlog = min(client.pending_count, self._recovery_backlog)
        while backlog > 0 and client.has_pending_messages:
            if self._receive_task is None:
                self._receive_task = asyncio.ensure_future(client.receive())
            task, self._receive_task = self._receive_task, None
            backlog -= await self._handle_received(client, await task, limit=backlog)

    async def _handle_received(
        self, client: CometdClient, first: dict[str, Any], *, limit: int = _MAX_MESSAGES_PER_HANDOFF
    ) -> int:
        """Handle ``first`` together with the messages already queued behind it (up to ``limit``
        in all, at most 64); returns how many were handled.

        A session that has fallen behind hands the events of its backlog on in
        one publish and saves the state once, instead of once per message; each
        message still counts as handled only after both. Raises what receiving
        raised, after handling the messages received before it.
        """
        messages = [first]
        failure: Exception | None = None
        while len(messages) < min(limit, _MAX_MESSAGES_PER_HANDOFF):
            try:
                message = client.receive_queued()
            except Exception as exc:  # e.g. an unsuccessful reply: handle what came before it first
                failure = exc
                break
            if message is None:
                break
            messages.append(message)
        await self.handoff.hand_on(messages)
        if failure is not None:
            raise failure
        return len(messages)
