"""The message loop of an agent session: receiving, batching, handing events on, saving state.

:class:`MessageLoop` is the part of :class:`~bridge.gws.session.AgentSession`
that turns received CometD messages into events: ``normalize`` → one
``sink.publish`` per batch (retried until it succeeds, each event id once) →
one ``state_store.save``. A session that has fallen behind takes the messages
already queued (up to 64) together. Notes filed for the agent (``bridge.gws.notes``) are
handled the same way, between messages. ``AgentSession`` owns the state this
mixin works on (declared below) and provides ``_relogin``, ``read_state`` and ``apply_state``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bridge import tracing
from bridge.errors import BridgeError
from bridge.events import Event, EventSink
from bridge.gws.backoff import Backoff
from bridge.gws.cometd import CometdClient
from bridge.gws.notes import AgentNotes, NotesError
from bridge.normalize import Snapshot, normalize

if TYPE_CHECKING:
    from bridge.gws.session import SessionStatus
    from bridge.gws.state_store import StateStore

__all__ = ["CometdSubscriptionError", "MessageLoop", "describe_error"]

# The loop logs as part of the agent session, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.session")

# Recent event ids remembered per session, as 64-bit hashes (~60 bytes each): enough to cover a
# recovery re-deriving what was just handed on, small enough for thousands of sessions.
_SEEN_IDS = 256
# Messages already queued behind the one received that are handled with it (one publish, one save).
_MAX_MESSAGES_PER_HANDOFF = 64


class CometdSubscriptionError(BridgeError):
    """GWS refused to re-subscribe a channel after a re-handshake; the session starts over."""


class MessageLoop:
    """Receives, batches and hands on an agent session's messages (a mixin of ``AgentSession``)."""

    username: str
    status: SessionStatus
    _sink: EventSink
    _store: StateStore | None
    _source: str
    _include_raw: bool
    _state: Any
    _seen: set[int]
    _seen_order: deque[int]
    _client: CometdClient | None
    _receive_task: asyncio.Task[dict[str, Any]] | None
    _recovery_reasons: list[str]
    _recovery_backlog: int
    _attention: asyncio.Event
    _stopping: asyncio.Event
    _notes: AgentNotes | None
    _notes_waiting: bool

    if TYPE_CHECKING:

        async def _relogin(self, reason: str) -> None: ...

        async def read_state(self) -> Snapshot: ...

        async def apply_state(self, snapshot: Snapshot) -> None: ...

    async def _pump(self) -> None:
        """Handle messages until stopped; raises when the CometD client fails."""
        assert self._client is not None
        client = self._client
        stop_task = asyncio.ensure_future(self._stopping.wait())
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
        return await self.read_state()

    async def _take_notes(self) -> None:
        """Handle the notes filed for this agent (``bridge.gws.notes``) like messages, oldest
        first; each leaves the list once its events are handed on and the state saved."""
        self._notes_waiting = False
        notes = self._notes
        if notes is None:
            return
        try:
            while batch := await notes.peek(self.username, _MAX_MESSAGES_PER_HANDOFF):
                await self._handle_messages(batch)
                await notes.drop(self.username, len(batch))
                await notes.mark_handled(batch)
                if len(batch) < _MAX_MESSAGES_PER_HANDOFF:
                    return
        except NotesError as exc:  # the pool's next tick finds them still waiting
            self.status.last_error = describe_error(exc)
            logger.warning(
                "agent %s: notes not taken: %s",
                self.username,
                self.status.last_error,
                extra={"agent": self.username, "error": self.status.last_error},
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
        await self._handle_messages(messages)
        if failure is not None:
            raise failure
        return len(messages)

    @tracing.traced("cometd message", kind=tracing.SpanKind.CONSUMER, attributes=lambda self, messages: {
        "gwsb.agent": self.username, "gwsb.cometd.channel": str(messages[0].get("channel")),
        "messaging.batch.message_count": len(messages)})  # fmt: skip
    async def _handle_messages(self, messages: Sequence[dict[str, Any]]) -> None:
        """Normalize ``messages`` in order, hand their events on in one publish, then save the state once."""
        events: list[Event] = []
        normalized = 0
        for message in messages:
            try:
                events += normalize(
                    message, agent=self.username, state=self._state,
                    source=self._source, include_raw=self._include_raw,
                )  # fmt: skip
            except Exception as exc:  # a normalizer bug must not stop the agent's session
                self.status.last_error = describe_error(exc)
                logger.exception(
                    "agent %s: normalizer failed on a %s message; skipped",
                    self.username,
                    message.get("channel"),
                    extra={"agent": self.username, "channel": message.get("channel")},
                )
                continue
            normalized += 1
        if not normalized:
            return
        tracing.set_attribute("gwsb.events", len(events))
        await self._emit(events)
        self.status.messages += normalized
        self.status.last_message_at = time.time()

    async def _emit(self, events: Sequence[Event]) -> None:
        """Hand on the events not handed on before (each id once), then save the state."""
        fresh: list[Event] = []
        keys: set[int] = set()
        for event in events:
            key = hash(event.id)
            if key not in self._seen and key not in keys:
                keys.add(key)
                fresh.append(event)
        if fresh:
            await self._publish(fresh)
            for event in fresh:
                key = hash(event.id)
                if key not in self._seen:
                    self._seen.add(key)
                    self._seen_order.append(key)
            while len(self._seen_order) > _SEEN_IDS:
                self._seen.discard(self._seen_order.popleft())
            self.status.events += len(fresh)
        if self._store is not None:
            await self._store.save(self.username, self._state)

    @tracing.traced("publish events", kind=tracing.SpanKind.PRODUCER, attributes=lambda self, events: {
        "gwsb.agent": self.username, "gwsb.events": len(events)})  # fmt: skip
    async def _publish(self, events: Sequence[Event]) -> None:
        """``sink.publish`` until it succeeds: an event is never dropped because the sink hiccuped.

        With tracing on, the events carry this span as their ``traceparent``.
        """
        events = tracing.stamp(events)
        backoff = Backoff(0.2, 10.0)
        while True:
            try:
                await self._sink.publish(events)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status.last_error = describe_error(exc)
                logger.warning(
                    "agent %s: event sink failed; retrying: %s",
                    self.username,
                    self.status.last_error,
                    extra={"agent": self.username, "events": len(events), "error": self.status.last_error},
                )
                await asyncio.sleep(backoff.next_delay())


def describe_error(exc: BaseException) -> str:
    """``exc`` in one line (type and text) for logs and ``status.last_error``."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
