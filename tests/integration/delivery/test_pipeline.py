"""End to end through real worker processes: sink, Redis and `gws-bridge worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
from standardwebhooks.webhooks import Webhook

from bridge.config import load_settings
from bridge.delivery.sink import CeleryEventSink
from tests.plugins.delivery import Reply, WebhookSink, WorkerProcess, make_event
from tests.plugins.ports import free_port

SECRET_OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_NEW = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


async def test_events_arrive_signed_and_verify_with_standardwebhooks(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    config = delivery_config(
        destinations=[
            {"name": "crm", "kind": "webhook", "url": f"{webhook_sink.url}/crm",
             "secrets": [SECRET_OLD, SECRET_NEW], "headers": {"X-Tenant": "acme"}},
        ],
        routes=[{"events": ["call.*"], "destinations": ["crm"]}],
    )  # fmt: skip
    metrics_port = free_port()
    await asyncio.to_thread(worker_factory, config, extra_args=["--metrics-port", str(metrics_port)])
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        events = [make_event(n) for n in range(1, 31)]
        await sink.publish(events)
    finally:
        await sink.aclose()
    await webhook_sink.wait_for(lambda: len(webhook_sink.delivered()) >= 30, within=15, what="30 deliveries")
    for received in webhook_sink.delivered():
        assert received.headers["x-tenant"] == "acme"
        for secret in (SECRET_OLD, SECRET_NEW):  # a receiver holding either secret accepts it
            payload = Webhook(secret).verify(received.body, received.headers)
            assert payload["id"] == received.webhook_id
    assert sorted(r.webhook_id for r in webhook_sink.delivered()) == sorted(e.id for e in events)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            metrics = await response.text()
    assert 'gwsb_deliveries_total{destination="crm",outcome="delivered"} 30.0' in metrics
    assert 'gwsb_delivery_latency_seconds_count{destination="crm"} 30.0' in metrics


async def test_503_then_200_delivers_each_webhook_id_successfully_exactly_once(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    webhook_sink.behaviour = lambda r: Reply(503, {"Retry-After": "0"}) if r.nth == 1 else Reply(200)
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "secrets": [SECRET_NEW]}],
        routes=[{"destinations": ["crm"]}],
    )
    await asyncio.to_thread(worker_factory, config)
    await asyncio.to_thread(worker_factory, config)
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        events = [make_event(n, subject=f"call/{n % 7}") for n in range(1, 101)]
        await sink.publish(events[:50])
        await sink.publish(events[50:])
    finally:
        await sink.aclose()
    await webhook_sink.wait_for(
        lambda: len(webhook_sink.delivered()) >= 100, within=20, what="100 deliveries"
    )
    await asyncio.sleep(0.5)  # a duplicate, if any, would arrive now
    ok = [r.webhook_id for r in webhook_sink.delivered()]
    assert sorted(ok) == sorted(e.id for e in events)  # each exactly once
    failed = [r.webhook_id for r in webhook_sink.received if r.status == 503]
    assert sorted(failed) == sorted(e.id for e in events)  # and each after one 503
