"""Failures through real worker processes: 410, dead letters, replay, the retry schedule, SIGKILL."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.cli import main as cli_main
from bridge.config import load_settings
from bridge.delivery.sink import CeleryEventSink
from bridge.events import Event
from tests.plugins.contract import contract_problems
from tests.plugins.delivery import Reply, WebhookSink, WorkerProcess, make_event


async def _publish(config: Path, events: list[Event]) -> None:
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        await sink.publish(events)
    finally:
        await sink.aclose()


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = await asyncio.to_thread(cli_main, list(argv))
    return status, capsys.readouterr().out


async def test_410_disables_destination_dead_letters_event_and_replay_delivers_it(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    gone = {"crm": True}
    webhook_sink.behaviour = lambda r: Reply(410) if r.path == "/crm" and gone["crm"] else Reply(200)
    config = delivery_config(
        destinations=[
            {"name": "crm", "kind": "webhook", "url": f"{webhook_sink.url}/crm"},
            {"name": "ops", "kind": "webhook", "url": f"{webhook_sink.url}/ops"},
        ],
        routes=[
            {"events": ["call.*"], "destinations": ["crm"]},
            {"events": ["destination.disabled", "delivery.dead_lettered"], "destinations": ["ops", "crm"]},
        ],
    )
    await asyncio.to_thread(worker_factory, config)
    first = make_event(1)
    await _publish(config, [first])

    # Both notices are routed (to ops; never to the destination they are about).
    await webhook_sink.wait_for(lambda: len(webhook_sink.delivered("/ops")) == 2, within=10, what="notices")
    notices = {r.json()["type"]: r.json()["data"] for r in webhook_sink.delivered("/ops")}
    assert [p for r in webhook_sink.delivered("/ops") for p in contract_problems(r.json())] == []
    assert notices["destination.disabled"]["destination"] == "crm"
    assert "410" in notices["destination.disabled"]["reason"]
    assert notices["delivery.dead_lettered"]["dead_letter_id"] == f"crm:{first.id}"

    status, out = await _cli(capsys, "dlq", "--config", str(config), "list", "--json")
    assert status == 0
    letters = [json.loads(line) for line in out.splitlines()]
    assert [(x["id"], x["destination"]) for x in letters] == [(f"crm:{first.id}", "crm")]
    assert len(letters[0]["attempts"]) == 1 and "410" in letters[0]["attempts"][0]["detail"]

    # While disabled, new events are kept, not sent and not dropped.
    second = make_event(2)
    await _publish(config, [second])
    await asyncio.sleep(0.8)
    assert [r.webhook_id for r in webhook_sink.received if r.path == "/crm"] == [first.id]
    status, out = await _cli(capsys, "destinations", "--config", str(config), "list", "--json")
    crm = next(json.loads(line) for line in out.splitlines() if json.loads(line)["name"] == "crm")
    assert (crm["state"], crm["parked"], crm["dead_letters"]) == ("disabled", 1, 1)

    gone["crm"] = False
    status, out = await _cli(capsys, "destinations", "--config", str(config), "enable", "crm")
    assert status == 0 and "1 kept event" in out
    await webhook_sink.wait_for(
        lambda: [r.webhook_id for r in webhook_sink.delivered("/crm")] == [second.id],
        within=10,
        what="kept event",
    )
    status, out = await _cli(capsys, "dlq", "--config", str(config), "replay", f"crm:{first.id}")
    assert status == 0 and "replayed 1" in out
    await webhook_sink.wait_for(
        lambda: len(webhook_sink.delivered("/crm")) == 2, within=10, what="replayed event"
    )
    assert webhook_sink.delivered("/crm")[1].webhook_id == first.id
    status, out = await _cli(capsys, "dlq", "--config", str(config), "list")
    assert out.strip() == ""


async def test_retry_schedule_is_followed_then_the_event_is_dead_lettered(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    schedule = [0.4, 0.8, 1.2]
    webhook_sink.behaviour = lambda r: Reply(500)
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url}],
        routes=[{"destinations": ["crm"]}],
        delivery={"retry_schedule": schedule, "retry_jitter": 0.0},
    )
    await asyncio.to_thread(worker_factory, config)
    event = make_event(1)
    await _publish(config, [event])
    await webhook_sink.wait_for(lambda: len(webhook_sink.received) >= 4, within=15, what="4 attempts")
    times = [r.at for r in webhook_sink.received]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, expected in zip(gaps, schedule, strict=True):
        assert expected - 0.05 <= gap <= expected + 0.6, (gaps, schedule)
    assert {r.webhook_id for r in webhook_sink.received} == {event.id}  # same webhook-id on every retry

    async def dead() -> list[dict[str, object]]:
        _, out = await _cli(capsys, "dlq", "--config", str(config), "list", "--json")
        return [json.loads(line) for line in out.splitlines()]

    for _ in range(50):
        letters = await dead()
        if letters:
            break
        await asyncio.sleep(0.1)
    assert len(letters) == 1 and len(letters[0]["attempts"]) == 4  # type: ignore[arg-type]
    assert "attempts exhausted" in str(letters[0]["reason"])
    await asyncio.sleep(1.5)
    assert len(webhook_sink.received) == 4  # nothing after the last attempt


async def test_retry_after_on_429_is_honoured(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    webhook_sink.behaviour = lambda r: Reply(429, {"Retry-After": "1"}) if r.nth == 1 else Reply(200)
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url}],
        routes=[{"destinations": ["crm"]}],
        delivery={"retry_schedule": [0.05]},
    )
    await asyncio.to_thread(worker_factory, config)
    await _publish(config, [make_event(1)])
    await webhook_sink.wait_for(lambda: len(webhook_sink.delivered()) == 1, within=10, what="delivery")
    first, second = webhook_sink.received
    assert second.at - first.at >= 0.95


@pytest.mark.slow
async def test_worker_sigkilled_mid_delivery_loses_nothing(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    killed_at = {"t": float("inf")}
    webhook_sink.behaviour = lambda r: Reply(200, delay=1.0 if r.at < killed_at["t"] else 0.0)
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 1.2}],
        routes=[{"destinations": ["crm"]}],
        delivery={"task_deadline": 1.5, "visibility_timeout": 3.0},
    )
    first_worker = await asyncio.to_thread(worker_factory, config)
    events = [make_event(n) for n in range(1, 21)]
    await _publish(config, events)
    await webhook_sink.wait_for(lambda: len(webhook_sink.received) == 20, within=10, what="20 in flight")
    killed_at["t"] = time.time()
    first_worker.kill()  # mid-delivery: every request is waiting for its reply

    await asyncio.to_thread(worker_factory, config)
    after_kill = lambda: {r.webhook_id for r in webhook_sink.delivered() if r.at > killed_at["t"]}  # noqa: E731
    await webhook_sink.wait_for(lambda: len(after_kill()) == 20, within=20, what="redelivery of all 20")
    assert after_kill() == {e.id for e in events}
