"""Event sinks owned by the subscriber.

* :class:`PrintEventSink`: JSON lines on stdout, for debugging and tests.
* :class:`GroupCommitSink`: wraps another sink and hands the events of many
  concurrent ``publish`` calls (one per CometD message, from many agent
  sessions) to it in one call, the way a database group-commits its log.

The production sink (the Celery enqueue) lives in ``bridge/delivery/``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Sequence
from typing import BinaryIO

from bridge.errors import BridgeError
from bridge.events import Event, EventSink

__all__ = ["GroupCommitSink", "PrintEventSink", "SinkClosedError"]

logger = logging.getLogger(__name__)


class PrintEventSink:
    """Writes each event as one compact JSON line (CloudEvents structured form).

    ``publish`` returns after the lines are written and flushed, which is as
    durable as stdout gets. Writes are synchronous, so lines from concurrent
    sessions in one process never interleave.
    """

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self.published = 0

    async def publish(self, events: Sequence[Event]) -> None:
        """Write ``events`` as JSON lines and flush; raises ``OSError`` if stdout is gone."""
        if not events:
            return
        self._stream.write(b"".join(event.to_json() + b"\n" for event in events))
        self._stream.flush()
        self.published += len(events)


class SinkClosedError(BridgeError):
    """A :class:`GroupCommitSink` was closed before these events were handed on."""


class _Group:
    """The events of several ``publish`` calls, handed on together; ``done`` tells every caller."""

    __slots__ = ("done", "events", "full", "opened")

    def __init__(self, opened: float) -> None:
        self.events: list[Event] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done.add_done_callback(_retrieve)  # a group whose callers all left must not warn
        self.full = asyncio.Event()
        self.opened = opened


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class GroupCommitSink:
    """An :class:`~bridge.events.EventSink` that batches concurrent publishes into one ``inner.publish``.

    Events of concurrent ``publish`` calls are collected into a group for up
    to ``max_delay`` seconds (from the group's first event) or until it holds
    ``max_events`` events, then handed to ``inner.publish`` in one call, in
    the order the calls arrived (so each caller's events keep their order).
    One caller's events are never split across groups; a call bigger than
    ``max_events`` makes a group of its own.

    Contract, the same as the inner sink's: ``publish`` returns only once the
    ``inner.publish`` holding its events has returned, and raises what that
    call raised. A failed group fails every caller in it (each retries its own
    events), so at-least-once is kept and nothing of a failed group is counted
    in ``published``.

    At most ``max_in_flight`` inner publishes run at once; while they run the
    next group keeps growing, so batches grow with the load by themselves.
    Back-pressure: when ``max_pending`` events are accepted but not yet handed
    on (queued or in flight), further callers wait for room (a call is always
    let in when nothing is pending, whatever its size). A caller cancelled
    while waiting for its group leaves its events in it: they are still
    handed on. :meth:`aclose` hands on what is queued, then closes ``inner``
    (if it has an ``aclose``); later publishes raise :class:`SinkClosedError`.
    """

    def __init__(
        self,
        inner: EventSink,
        *,
        max_events: int = 500,
        max_delay: float = 0.002,
        max_pending: int = 5000,
        max_in_flight: int = 1,
    ) -> None:
        if max_events < 1 or max_in_flight < 1:
            raise ValueError("max_events and max_in_flight must be >= 1")
        if max_delay < 0:
            raise ValueError("max_delay must be >= 0")
        if max_pending < max_events:
            raise ValueError("max_pending must be >= max_events")
        self.inner = inner
        self.max_events = max_events
        self.max_delay = max_delay
        self.max_pending = max_pending
        self.max_in_flight = max_in_flight
        #: events handed on successfully, and inner publishes that succeeded
        self.published = 0
        self.batches = 0
        self._groups: deque[_Group] = deque()  # waiting to go; only the last one may still grow
        self._pending = 0  # events accepted and not yet handed on (queued or in flight)
        self._room = asyncio.Condition()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sending: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Events accepted by ``publish`` and not yet handed on (queued or in flight)."""
        return self._pending

    async def publish(self, events: Sequence[Event]) -> None:
        """Hand ``events`` on with the others of their group; returns or raises as that group did.

        Raises :class:`SinkClosedError` after :meth:`aclose`, or when the sink
        closes before the group could be handed on.
        """
        if not events:
            return
        size = len(events)
        if self._pending and self._pending + size > self.max_pending:
            async with self._room:
                await self._room.wait_for(
                    lambda: self._closed or not self._pending or self._pending + size <= self.max_pending
                )
        if self._closed:
            raise SinkClosedError("the group-commit sink is closed; events not handed on")
        group = self._join(events)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="group-commit-flusher")
        # shield: a cancelled caller must not cancel the group it shares with others
        await asyncio.shield(group.done)

    def _join(self, events: Sequence[Event]) -> _Group:
        loop = asyncio.get_running_loop()
        group = self._groups[-1] if self._groups else None
        if (
            group is None
            or group.full.is_set()
            or (group.events and len(group.events) + len(events) > self.max_events)
        ):
            if group is not None:
                group.full.set()  # sealed: the next events start a new group
            group = _Group(loop.time())
            self._groups.append(group)
        group.events.extend(events)
        self._pending += len(events)
        if len(group.events) >= self.max_events:
            group.full.set()
        self._wake.set()
        return group

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._groups:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            group = self._groups[0]
            remaining = group.opened + self.max_delay - loop.time()
            if remaining > 0 and not group.full.is_set() and not self._closed:
                try:
                    async with asyncio.timeout(remaining):
                        await group.full.wait()
                except TimeoutError:
                    pass
            await self._slots.acquire()  # the group keeps growing while the inner sink is busy
            self._groups.popleft()
            group.full.set()
            task = asyncio.create_task(self._send(group))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, group: _Group) -> None:
        try:
            await self.inner.publish(group.events)
        except asyncio.CancelledError:
            group.done.set_exception(SinkClosedError("the group-commit sink closed during the hand-off"))
            raise
        except Exception as exc:
            logger.debug(
                "group hand-off failed",
                extra={"events": len(group.events), "error": type(exc).__name__},
            )
            group.done.set_exception(exc)
        else:
            self.published += len(group.events)
            self.batches += 1
            group.done.set_result(None)
        finally:
            self._slots.release()
            self._pending -= len(group.events)
            async with self._room:
                self._room.notify_all()

    async def aclose(self) -> None:
        """Hand on what is queued, wait for it, then close the inner sink (when it has ``aclose``)."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        for group in self._groups:
            group.full.set()  # no more waiting for company
        async with self._room:
            self._room.notify_all()
        if self._flusher is not None:
            await self._flusher
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()
