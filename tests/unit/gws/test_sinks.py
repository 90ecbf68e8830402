"""``GroupCommitSink``: concurrent publishes grouped into one inner publish, with the sink's contract kept.

The inner sink is a real one written here: it records every batch it is
given, can be made slow (an ``asyncio.Event`` it waits on, or a delay) and can
be made to fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bridge.events import Event, EventSink, EventType
from bridge.gws.sinks import GroupCommitSink, SinkClosedError


def make_event(agent: str, n: int) -> Event:
    return Event(
        id=f"{agent}-{n}", source="gws-bridge/test", type=EventType.CALL_RINGING,
        subject=f"call/{agent}-{n}", time=datetime(2026, 1, 1, tzinfo=UTC), data={}, sequence=n,
        partitionkey=agent,
    )  # fmt: skip


class RecordingSink:
    """Keeps each batch it handed on; ``gate`` (when set) holds every publish until it is opened."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.batches: list[list[Event]] = []
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.fail_with: Exception | None = None
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.started = asyncio.Event()
        self.closed = False

    async def publish(self, events: Sequence[Event]) -> None:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.started.set()
        try:
            if self.gate is not None:
                await asyncio.wait_for(self.gate.wait(), timeout=10)
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.fail_with is not None:
                raise self.fail_with
            self.batches.append(list(events))
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]


def test_group_commit_sink_is_an_event_sink() -> None:
    sink: EventSink = GroupCommitSink(RecordingSink())
    assert sink is not None


async def test_concurrent_publishes_go_to_the_inner_sink_in_one_call() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=100, max_delay=0.05)
    await asyncio.wait_for(
        asyncio.gather(*(sink.publish([make_event(f"a{i}", 1)]) for i in range(20))), timeout=10
    )
    assert inner.calls == 1
    assert sorted(e.id for e in inner.events) == sorted(f"a{i}-1" for i in range(20))
    assert sink.published == 20 and sink.batches == 1 and sink.pending == 0
    await sink.aclose()


async def test_a_group_is_handed_on_once_it_holds_max_events() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=5, max_delay=5.0)  # the delay alone would time the test out
    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(sink.publish([make_event(f"a{i}", 1)]) for i in range(10))), 10)
    assert time.monotonic() - started < 2.0
    assert [len(batch) for batch in inner.batches] == [5, 5]
    await sink.aclose()


async def test_each_caller_returns_only_after_its_groups_inner_publish_returned() -> None:
    inner = RecordingSink()
    inner.gate = asyncio.Event()
    sink = GroupCommitSink(inner, max_events=100, max_delay=0.0)
    callers = [asyncio.create_task(sink.publish([make_event(f"a{i}", 1)])) for i in range(5)]
    await asyncio.wait_for(inner.started.wait(), 5)
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in callers)  # the inner publish is still running
    assert inner.batches == []
    inner.gate.set()
    await asyncio.wait_for(asyncio.gather(*callers), 5)
    assert len(inner.events) == 5
    await sink.aclose()


async def test_a_failed_group_fails_every_caller_and_counts_nothing_as_published() -> None:
    inner = RecordingSink()
    inner.fail_with = ConnectionError("redis down")
    sink = GroupCommitSink(inner, max_events=100, max_delay=0.02)
    results = await asyncio.wait_for(
        asyncio.gather(*(sink.publish([make_event(f"a{i}", 1)]) for i in range(6)), return_exceptions=True),
        timeout=10,
    )
    assert inner.calls == 1
    assert all(isinstance(result, ConnectionError) for result in results)
    assert sink.published == 0 and inner.events == [] and sink.pending == 0
    # the callers retry their own events: the next group goes through
    inner.fail_with = None
    await asyncio.wait_for(sink.publish([make_event("a0", 1)]), 5)
    assert [e.id for e in inner.events] == ["a0-1"] and sink.published == 1
    await sink.aclose()


async def test_each_sessions_events_keep_their_order() -> None:
    inner = RecordingSink(delay=0.003)
    sink = GroupCommitSink(inner, max_events=7, max_delay=0.001, max_in_flight=2)

    async def session(agent: str) -> None:
        for n in range(1, 31):  # like AgentSession: one message at a time, two events each
            await sink.publish([make_event(agent, 2 * n - 1), make_event(agent, 2 * n)])

    await asyncio.wait_for(asyncio.gather(*(session(f"a{i}") for i in range(8))), timeout=30)
    for i in range(8):
        sequences = [e.sequence for e in inner.events if e.partitionkey == f"a{i}"]
        assert sequences == list(range(1, 61))
    assert inner.calls < 8 * 30  # grouped
    assert all(len(batch) <= 7 for batch in inner.batches)
    assert inner.most_in_flight <= 2
    await sink.aclose()


async def test_one_call_is_never_split_and_may_exceed_max_events() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=3, max_delay=0.01)
    big = [make_event("a", n) for n in range(1, 9)]
    await asyncio.wait_for(asyncio.gather(sink.publish([make_event("b", 1)]), sink.publish(big)), 10)
    assert big in inner.batches
    await sink.aclose()


async def test_batches_grow_while_the_inner_publish_is_busy() -> None:
    inner = RecordingSink()
    inner.gate = asyncio.Event()
    sink = GroupCommitSink(inner, max_events=1000, max_delay=0.0, max_in_flight=1)
    first = asyncio.create_task(sink.publish([make_event("first", 1)]))
    await asyncio.wait_for(inner.started.wait(), 5)
    rest = [asyncio.create_task(sink.publish([make_event(f"a{i}", 1)])) for i in range(50)]
    await asyncio.sleep(0.05)
    assert inner.calls == 1  # one in flight at most: the others wait, together
    inner.gate.set()
    await asyncio.wait_for(asyncio.gather(first, *rest), 10)
    assert [len(batch) for batch in inner.batches] == [1, 50]
    await sink.aclose()


async def test_a_lone_publish_goes_out_within_about_max_delay() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=100, max_delay=0.05)
    await sink.publish([make_event("warm", 1)])
    started = time.monotonic()
    await asyncio.wait_for(sink.publish([make_event("a", 1)]), 5)
    elapsed = time.monotonic() - started
    assert 0.045 <= elapsed < 0.5  # waited for company, but not for long (a loaded 2-core box)
    await sink.aclose()


async def test_callers_wait_for_room_when_max_pending_events_are_queued() -> None:
    inner = RecordingSink()
    inner.gate = asyncio.Event()
    sink = GroupCommitSink(inner, max_events=4, max_delay=0.0, max_pending=8, max_in_flight=1)
    callers = [asyncio.create_task(sink.publish([make_event(f"a{i}", 1)])) for i in range(20)]
    await asyncio.wait_for(inner.started.wait(), 5)
    await asyncio.sleep(0.05)
    assert sink.pending == 8  # the rest wait outside the buffer
    inner.gate.set()
    await asyncio.wait_for(asyncio.gather(*callers), 10)
    assert sorted(e.id for e in inner.events) == sorted(f"a{i}-1" for i in range(20))
    assert sink.pending == 0
    await sink.aclose()


async def test_a_call_bigger_than_max_pending_is_let_in_when_nothing_is_pending() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=2, max_delay=0.0, max_pending=4)
    await asyncio.wait_for(sink.publish([make_event("a", n) for n in range(1, 11)]), 5)
    assert len(inner.events) == 10
    await sink.aclose()


async def test_a_cancelled_caller_does_not_cancel_its_group() -> None:
    inner = RecordingSink()
    inner.gate = asyncio.Event()
    sink = GroupCommitSink(inner, max_events=100, max_delay=0.0)
    leaving = asyncio.create_task(sink.publish([make_event("leaving", 1)]))
    staying = asyncio.create_task(sink.publish([make_event("staying", 1)]))
    await asyncio.wait_for(inner.started.wait(), 5)
    leaving.cancel()
    inner.gate.set()
    await asyncio.wait_for(staying, 5)
    assert sorted(e.id for e in inner.events) == ["leaving-1", "staying-1"]
    await sink.aclose()


async def test_aclose_hands_on_what_is_queued_then_closes_the_inner_sink() -> None:
    inner = RecordingSink()
    sink = GroupCommitSink(inner, max_events=100, max_delay=5.0)
    caller = asyncio.create_task(sink.publish([make_event("a", 1)]))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(sink.aclose(), 5)
    await asyncio.wait_for(caller, 5)
    assert [e.id for e in inner.events] == ["a-1"] and inner.closed
    with pytest.raises(SinkClosedError):
        await sink.publish([make_event("a", 2)])


@pytest.mark.parametrize(
    "options",
    [{"max_events": 0}, {"max_in_flight": 0}, {"max_delay": -1.0}, {"max_events": 10, "max_pending": 5}],
)
def test_invalid_limits_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GroupCommitSink(RecordingSink(), **options)  # type: ignore[arg-type]
