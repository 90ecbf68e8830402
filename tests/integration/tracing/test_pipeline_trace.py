"""One simulated call, one connected trace per event: CometD message → enqueue → delivery → the sink.

The pipeline runs in this process so that the SDK's in-memory exporter sees every span: an
agent session on the in-process simulator, handing its events to the real Celery sink (Redis),
the real delivery runtime under an embedded Celery worker, and a recording webhook sink. The
receiver's side (an incoming ``traceparent`` → command → GWS request → outcome) has its own test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig, RouteConfig
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.delivery.app import RunnerSlot, make_celery_app
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.runtime import DeliveryRuntime
from bridge.delivery.sink import CeleryEventSink
from bridge.gws.session import AgentSession
from tests.plugins.delivery import Received, WebhookSink
from tests.plugins.simulator import SimulatorHandle

AGENT = "agent0001"


def _settings(simulator: SimulatorHandle, redis_url: str, sink: WebhookSink) -> Settings:
    return Settings(
        redis_url=redis_url,
        gws=GwsSettings(base_url=simulator.base_url),
        agents=[AgentConfig(username=AGENT, password=simulator.password)],
        destinations=[DestinationConfig(name="crm", kind="webhook", url=sink.url, timeout=5.0)],
        routes=[RouteConfig(events=["call.*"], destinations=["crm"])],
        delivery={"retry_poll_interval": 0.05},
    )


@contextlib.contextmanager
def _worker(settings: Settings, app: Celery, slot: RunnerSlot) -> Iterator[None]:
    """The delivery runtime under a Celery worker embedded in this process (a thread)."""
    runtime = DeliveryRuntime(settings, app, hostname="trace-test")
    runtime.start()
    slot.runner = runtime
    try:
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False,
                          queues=[settings.delivery.queue], shutdown_timeout=20):  # fmt: skip
            yield
    finally:
        runtime.close()


@pytest.fixture
async def pipeline(
    simulator: SimulatorHandle, redis_url: str, webhook_sink: WebhookSink, spans: InMemorySpanExporter
) -> AsyncIterator[WebhookSink]:
    settings = _settings(simulator, redis_url, webhook_sink)
    make_celery_app(settings).finalize()  # another app in the process (one finalized) must not matter
    slot = RunnerSlot()
    app = make_celery_app(settings, slot)  # the sink's and the worker's
    redis = Redis.from_url(redis_url)
    destinations = {d.name: d for d in settings.destinations}
    enqueuer = Enqueuer(app, redis, settings.keys, destinations, batch_size=10, queue=settings.delivery.queue)
    sink = CeleryEventSink(enqueuer, settings.routes, redis=redis)
    worker = _worker(settings, app, slot)
    await asyncio.to_thread(worker.__enter__)
    session = AgentSession(settings.gws, AGENT, simulator.password, sink=sink)
    task = asyncio.create_task(session.run())
    try:
        deadline = time.monotonic() + 20
        while not session.status.connected:
            assert time.monotonic() < deadline, "the agent session did not connect"
            await asyncio.sleep(0.05)
        yield webhook_sink
    finally:
        await session.stop()
        await asyncio.wait_for(task, timeout=10)
        await sink.aclose()
        await asyncio.to_thread(worker.__exit__, None, None, None)


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


def _trace_of(request: Received, spans: list[ReadableSpan]) -> dict[str, Any]:
    """The spans of the trace a delivered request belongs to, checked to form one tree."""
    _, trace_id, parent_id, _ = request.headers["traceparent"].split("-")
    mine = [s for s in spans if _hex(s.context.trace_id, 32) == trace_id]
    by_id = {_hex(s.context.span_id, 16): s for s in mine}
    roots = [s for s in mine if s.parent is None]
    orphans = [s.name for s in mine if s.parent is not None and _hex(s.parent.span_id, 16) not in by_id]
    return {"spans": mine, "by_id": by_id, "roots": roots, "orphans": orphans, "sender": by_id.get(parent_id)}


async def test_one_simulated_call_gives_one_connected_trace_per_event_from_cometd_to_the_sink(
    pipeline: WebhookSink, simulator: SimulatorHandle, spans: InMemorySpanExporter
) -> None:
    call_id = await simulator.start_call(AGENT, user_data={"CustomerName": "Ann"})
    await asyncio.sleep(0.3)
    await simulator.release_call(call_id)

    def delivered() -> list[Received]:
        return [r for r in pipeline.delivered() if r.json()["subject"] == f"call/{call_id}"]

    def complete() -> bool:
        return {"call.ringing", "call.released"} <= {r.json()["type"] for r in delivered()}

    await pipeline.wait_for(complete, within=20, what="the call's events at the sink")
    await asyncio.sleep(0.2)  # the worker's spans end just after the sink answered
    finished = list(spans.get_finished_spans())
    traces = set()
    for request in delivered():
        event = request.json()
        trace = _trace_of(request, finished)
        what = f"{event['type']}: {[(s.name, s.parent is None) for s in trace['spans']]}"
        assert trace["orphans"] == [], what
        assert [root.name for root in trace["roots"]] == ["cometd message"], what
        sender = trace["sender"]
        assert sender is not None and sender.name == "deliver crm", what  # the header names the attempt
        assert sender.attributes["gwsb.destination"] == "crm"
        assert sender.attributes["http.response.status_code"] == 200
        # the event itself carries the subscriber's span that enqueued it (CloudEvents distributed tracing)
        _, trace_id, publisher_id, _ = event["traceparent"].split("-")
        assert trace["by_id"][publisher_id].name == "publish events", what
        assert _hex(sender.parent.span_id, 16) == publisher_id
        root = trace["roots"][0]
        assert root.attributes["gwsb.agent"] == AGENT
        traces.add(trace_id)
    assert len(traces) == len(delivered())  # one trace per CometD message, none shared by accident
