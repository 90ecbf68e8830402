"""A command's trace: the caller's ``traceparent`` → the receiver → the GWS request → the outcome."""

from __future__ import annotations

import asyncio
import time

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bridge import tracing
from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def _finished(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    deadline = time.monotonic() + 5
    while not any(s.name == name for s in exporter.get_finished_spans()):
        assert time.monotonic() < deadline, f"no {name!r} span"
        await asyncio.sleep(0.02)
    return list(exporter.get_finished_spans())


async def test_a_command_continues_the_callers_trace_to_gws_and_its_outcome(
    receiver: ReceiverHandle, simulator: SimulatorHandle, spans: InMemorySpanExporter
) -> None:
    call_id = await simulator.start_call("agent0001")
    body = {"agent": "agent0001", "action": "call.answer", "params": {"call_id": call_id}}
    status, reply, _ = await receiver.call(
        "POST", "/v1/commands", body, headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    )
    assert status == 202, reply
    finished = await _finished(spans, "command outcome")
    mine = [s for s in finished if f"{s.context.trace_id:032x}" == CALLER_TRACE]
    server = _named(mine, "POST /v1/commands")
    command = _named(mine, "command")
    request = _named(mine, "GWS POST")
    outcome = _named(mine, "command outcome")
    assert f"{server.parent.span_id:016x}" == CALLER_SPAN  # the caller's span is the parent
    assert command.parent.span_id == server.context.span_id
    assert request.parent.span_id == command.context.span_id
    assert outcome.parent.span_id == command.context.span_id
    assert server.attributes["http.response.status_code"] == 202
    assert command.attributes["gwsb.command.id"] == reply["id"]
    assert command.attributes["gwsb.command.action"] == "call.answer"
    assert request.attributes["url.path"] == f"/api/v2/me/calls/{call_id}"
    assert outcome.attributes["gwsb.command.status"] == "succeeded"


async def test_without_a_traceparent_a_command_starts_a_trace_and_a_bad_one_is_ignored(
    receiver: ReceiverHandle, spans: InMemorySpanExporter
) -> None:
    for header in ({}, {"traceparent": "00-zz-not-a-trace"}):
        body = {"agent": "agent0001", "action": "agent.ready"}
        status, _, _ = await receiver.call("POST", "/v1/commands", body, headers=header)
        assert status == 202
    await _finished(spans, "POST /v1/commands")
    servers = [s for s in spans.get_finished_spans() if s.name == "POST /v1/commands"]
    assert len(servers) == 2
    assert all(s.parent is None for s in servers)
    assert servers[0].context.trace_id != servers[1].context.trace_id


def test_tracing_off_makes_no_span(spans: InMemorySpanExporter) -> None:
    tracing.uninstall()
    with tracing.span("nothing") as current:
        assert current is None
    assert tracing.traceparent() is None
    headers: dict[str, str] = {}
    tracing.inject(headers)
    assert headers == {}
    assert spans.get_finished_spans() == ()
