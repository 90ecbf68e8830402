"""bridge.tracing: nothing at all while off; spans, ``traceparent`` and events linked while on."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from bridge import tracing
from bridge.delivery.items import QueuedDelivery
from bridge.events import Event
from tests.plugins.contract import schema_validator

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _event(**extra: object) -> Event:
    return Event(
        id="e1", source="gws-bridge/agent0001", type="call.ringing", subject="call/0071023821aec011",
        time=datetime(2026, 1, 15, 9, 30, tzinfo=UTC), sequence=1, partitionkey="agent0001",
        data={"agent": "agent0001", "call_id": "0071023821aec011", "state": "Ringing"}, **extra,
    )  # fmt: skip


def test_off_every_call_returns_at_once_without_a_span() -> None:
    assert not tracing.active()
    with tracing.span("nothing", traceparent=PARENT) as current:
        assert current is None
    assert tracing.span("a") is tracing.span("b")  # one shared null context: nothing allocated
    assert tracing.traceparent() is None
    headers: dict[str, str] = {}
    tracing.inject(headers)
    tracing.set_attribute("k", 1)
    assert headers == {}
    events = [_event()]
    assert tracing.stamp(events) is events


async def test_off_a_traced_coroutine_runs_as_it_is() -> None:
    @tracing.traced("work", attributes=lambda x: {"x": x})
    async def work(x: int) -> int:
        return x + 1

    assert await work(1) == 2


def test_an_untraced_event_has_no_traceparent_on_the_wire() -> None:
    wire = orjson.loads(_event().to_json())
    assert "traceparent" not in wire
    assert list(schema_validator("cloudevent").iter_errors(wire)) == []
    assert QueuedDelivery.for_event(_event(), "crm").traceparent is None
    assert '"p"' not in QueuedDelivery.for_event(_event(), "crm").to_wire()


def test_a_traced_event_carries_it_and_keeps_its_contract() -> None:
    event = _event(traceparent=PARENT)
    wire = orjson.loads(event.to_json())
    assert wire["traceparent"] == PARENT
    assert list(schema_validator("cloudevent").iter_errors(wire)) == []
    assert Event.from_json(event.to_json()) == event
    delivery = QueuedDelivery.for_event(event, "crm")
    assert QueuedDelivery.from_wire(delivery.to_wire()).traceparent == PARENT
    with pytest.raises(ValidationError):
        _event(traceparent="not-a-trace")


def test_on_spans_nest_and_events_are_stamped_with_the_current_one(spans: InMemorySpanExporter) -> None:
    with tracing.span("outer", traceparent=PARENT) as outer:
        assert outer is not None
        with tracing.span("inner", kind=tracing.SpanKind.PRODUCER) as inner:
            assert inner is not None
            [stamped] = tracing.stamp([_event()])
            assert stamped.traceparent == tracing.traceparent()
            headers: dict[str, str] = {}
            tracing.inject(headers)
            assert headers["traceparent"] == stamped.traceparent
    inner_span, outer_span = spans.get_finished_spans()
    assert f"{outer_span.context.trace_id:032x}" == PARENT.split("-")[1]
    assert f"{outer_span.parent.span_id:016x}" == PARENT.split("-")[2]
    assert inner_span.parent.span_id == outer_span.context.span_id
    assert stamped.traceparent.split("-")[2] == f"{inner_span.context.span_id:016x}"


def test_a_malformed_traceparent_starts_a_new_trace(spans: InMemorySpanExporter) -> None:
    with tracing.span("outer"), tracing.span("fresh", traceparent="00-nothex-00f067aa0ba902b7-01"):
        pass
    fresh, outer = spans.get_finished_spans()
    assert fresh.parent is None and fresh.context.trace_id != outer.context.trace_id


async def test_on_a_traced_coroutine_is_a_span_with_its_attributes(spans: InMemorySpanExporter) -> None:
    @tracing.traced("work", attributes=lambda x: {"gwsb.x": x})
    async def work(x: int) -> int:
        tracing.set_attribute("gwsb.done", True)
        return x + 1

    assert await work(41) == 42
    [span] = spans.get_finished_spans()
    assert span.name == "work" and span.attributes == {"gwsb.x": 41, "gwsb.done": True}
