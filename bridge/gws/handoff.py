"""The hand-off of an agent session: its messages and snapshots → events → the sink, then the state.

:class:`Handoff` normalizes what the :class:`~bridge.gws.message_loop.MessageLoop` gives it,
hands the events on in one ``sink.publish`` (retried until it succeeds; each event id once, so a
change seen live and again in a recovery snapshot goes out once) and then saves the normalizer's
state once (retried too, the events handed on again before each retry). A message counts as
handled only once both are done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from bridge import tracing
from bridge.events import Event, EventSink
from bridge.gws.backoff import Backoff
from bridge.gws.state_store import StateStore
from bridge.gws.status import SessionStatus, describe_error
from bridge.normalize import Snapshot, normalize, normalize_snapshot
from bridge.normalize.state import MemoryState, StaleStateError, StateStoreError

__all__ = ["Handoff"]

# It logs as part of the agent session, under the same logger name as before the split.
logger = logging.getLogger("bridge.gws.session")

# Recent event ids remembered per session, as 64-bit hashes (~60 bytes each): enough to cover a
# recovery re-deriving what was just handed on, small enough for thousands of sessions.
_SEEN_IDS = 256


class Handoff:
    """Turns one agent's messages and snapshots into events, hands them on, saves the state.

    ``agent``: whose. ``sink``: where events go. ``status``: the session's status, whose
    ``messages``, ``events``, ``last_message_at`` and ``last_error`` it keeps. ``store``: where
    the normalizer's state is loaded from and saved to (``None``: in memory only). ``source``
    and ``include_raw`` go to the normalizer.
    """

    def __init__(
        self,
        agent: str,
        *,
        sink: EventSink,
        status: SessionStatus,
        store: StateStore | None,
        source: str,
        include_raw: bool,
    ) -> None:
        self.agent = agent
        self.status = status
        self._sink = sink
        self._store = store
        self._source = source
        self._include_raw = include_raw
        #: The normalizer's state: what GWS last told about the agent (:meth:`load_state` sets it).
        self.state: Any = None
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()

    async def load_state(self) -> None:
        """Load the agent's last known state from the store (kept in memory without one).

        Raises ``StateStoreError``; a later save raises ``StaleStateError`` once another holder
        has loaded the agent since.
        """
        if self._store is not None:
            self.state = await self._store.load(self.agent)
        elif self.state is None:
            self.state = MemoryState()

    async def hand_on_snapshot(self, snapshot: Snapshot) -> int:
        """Hand on what differs between ``snapshot`` and the last known state; returns how many
        events that made (already handed-on ones included, which are not sent again)."""
        events = normalize_snapshot(
            snapshot, agent=self.agent, state=self.state,
            source=self._source, include_raw=self._include_raw,
        )  # fmt: skip
        await self._emit(events)
        return len(events)

    @tracing.traced("cometd message", kind=tracing.SpanKind.CONSUMER, attributes=lambda self, messages: {
        "gwsb.agent": self.agent, "gwsb.cometd.channel": str(messages[0].get("channel")),
        "messaging.batch.message_count": len(messages)})  # fmt: skip
    async def hand_on(self, messages: Sequence[dict[str, Any]]) -> None:
        """Normalize ``messages`` in order, hand their events on in one publish, then save the state once.

        A message the normalizer fails on is logged and skipped; raises ``StaleStateError`` when
        another holder took the agent over.
        """
        events: list[Event] = []
        normalized = 0
        for message in messages:
            try:
                events += normalize(
                    message, agent=self.agent, state=self.state,
                    source=self._source, include_raw=self._include_raw,
                )  # fmt: skip
            except Exception as exc:  # a normalizer bug must not stop the agent's session
                self.status.last_error = describe_error(exc)
                logger.exception(
                    "agent %s: normalizer failed on a %s message; skipped",
                    self.agent,
                    message.get("channel"),
                    extra={"agent": self.agent, "channel": message.get("channel")},
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
            await self._save(fresh)

    async def _save(self, handed_on: Sequence[Event]) -> None:
        """Save the state until it succeeds; before each new try, hand ``handed_on`` on again.

        A failed save leaves it unknown whether Redis kept the events handed on just before
        (a failover can take back what the old master acknowledged; with ``wait_replicas`` a
        save that reached the promoted replica says so, ``MasterChangedError``), so they go out
        again — a repeat has the same webhook-id — and the message still counts as handled only
        once a save succeeded after them. ``StaleStateError`` (a takeover) is raised.
        """
        assert self._store is not None
        backoff = Backoff(0.2, 10.0)
        while True:
            try:
                await self._store.save(self.agent, self.state)
                return
            except StaleStateError:
                raise
            except StateStoreError as exc:
                self.status.last_error = describe_error(exc)
                logger.warning(
                    "agent %s: state save failed; handing %d event(s) on again, then saving again: %s",
                    self.agent, len(handed_on), self.status.last_error,
                    extra={"agent": self.agent, "events": len(handed_on), "error": self.status.last_error},
                )  # fmt: skip
            await asyncio.sleep(backoff.next_delay())
            if handed_on:
                await self._publish(handed_on)

    @tracing.traced("publish events", kind=tracing.SpanKind.PRODUCER, attributes=lambda self, events: {
        "gwsb.agent": self.agent, "gwsb.events": len(events)})  # fmt: skip
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
                    self.agent,
                    self.status.last_error,
                    extra={"agent": self.agent, "events": len(events), "error": self.status.last_error},
                )
                await asyncio.sleep(backoff.next_delay())
