"""`gws-bridge dlq` and `gws-bridge destinations` against a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bridge.cli import main as cli_main
from bridge.config.keys import Keys
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.items import AttemptRecord, QueuedDelivery
from bridge.processes.dlq import parse_time
from tests.plugins.delivery import make_event


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = await asyncio.to_thread(cli_main, list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


async def seed_letters(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    store = DeadLetterStore(client, Keys())
    for n, destination in ((1, "crm"), (2, "audit"), (3, "crm")):
        failed = QueuedDelivery.for_event(make_event(n), destination).with_attempt(
            AttemptRecord(time.time(), "failed", "HTTP 500")
        )
        await store.add(failed, "attempts exhausted; last: HTTP 500")
    await client.aclose()


async def test_dlq_show_list_filters_and_purge_guard(
    config: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_letters(redis_url)
    letter_id = f"crm:{make_event(1).id}"
    status, out, _ = await cli(capsys, "dlq", "--config", str(config), "show", letter_id)
    shown = json.loads(out)
    assert (
        status == 0
        and shown["event"]["id"] == make_event(1).id
        and shown["attempts"][0]["detail"] == "HTTP 500"
    )
    status, _, err = await cli(capsys, "dlq", "--config", str(config), "show", "crm:nope")
    assert status == 1 and "no dead letter" in err

    status, out, _ = await cli(capsys, "dlq", "--config", str(config), "list", "--destination", "crm")
    assert [line.split("\t")[0] for line in out.splitlines()] == [letter_id, f"crm:{make_event(3).id}"]
    status, out, _ = await cli(
        capsys, "dlq", "--config", str(config), "list", "--since", "1h", "--limit", "1"
    )
    assert len(out.splitlines()) == 1
    status, out, _ = await cli(capsys, "dlq", "--config", str(config), "list", "--until", "1h")
    assert out == ""

    status, _, err = await cli(capsys, "dlq", "--config", str(config), "purge")
    assert status == 2 and "--all" in err  # refuses to purge everything by accident (a usage error)
    status, out, _ = await cli(capsys, "dlq", "--config", str(config), "purge", "--destination", "audit")
    assert status == 0 and "purged 1" in out
    status, out, _ = await cli(capsys, "dlq", "--config", str(config), "replay", "--all")
    assert status == 0 and "replayed 2" in out


async def test_destinations_list_and_enable(
    config: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = Redis.from_url(redis_url)
    health = HealthStore(client, Keys())
    await health.disable("crm", "crm: HTTP 410 Gone")
    await health.park_if_disabled("crm", [QueuedDelivery.for_event(make_event(1), "crm").to_wire()])
    await client.aclose()
    status, out, _ = await cli(capsys, "destinations", "--config", str(config), "list")
    lines = out.splitlines()
    assert status == 0 and "disabled since" in lines[0] and "HTTP 410" in lines[0] and "parked=1" in lines[0]
    assert "enabled" in lines[1]
    status, _, err = await cli(capsys, "destinations", "--config", str(config), "enable", "nope")
    assert status == 1 and "unknown destination" in err
    status, out, _ = await cli(capsys, "destinations", "--config", str(config), "enable", "crm")
    assert status == 0 and "1 kept event" in out
    status, out, _ = await cli(capsys, "destinations", "--config", str(config), "list", "--json")
    assert [json.loads(line)["state"] for line in out.splitlines()] == ["enabled", "enabled"]


def test_times_are_iso_unix_or_ages() -> None:
    assert parse_time("2026-11-23T12:00:00Z") == 1795435200.0
    assert parse_time("1795435200") == 1795435200.0
    assert abs(parse_time("15m") - (time.time() - 900)) < 2
    with pytest.raises(Exception, match="not a time"):
        parse_time("yesterday")
