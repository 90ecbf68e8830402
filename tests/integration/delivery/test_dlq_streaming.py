"""Replay and purge stream thousands of dead letters in batches, show progress, and dry-run."""

from __future__ import annotations

import asyncio
import math
import os
import pty
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bridge.config import Settings, load_settings
from bridge.config.keys import Keys
from bridge.delivery.admin import DeliveryAdmin, LetterFilter
from bridge.delivery.deadletters import DeadLetter, DeadLetterStore
from bridge.delivery.items import AttemptRecord, QueuedDelivery
from tests.integration.delivery.test_cli import cli
from tests.plugins.delivery import make_event

ROOT = Path(__file__).resolve().parents[3]
LETTERS = 3000  # crm gets two in three, audit one in three


@pytest.fixture
def settings(config: Path) -> Settings:
    return load_settings(str(config))


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    store = DeadLetterStore(client, Keys())
    start = time.time() - LETTERS
    for first in range(0, LETTERS, 500):
        async with client.pipeline(transaction=False) as pipe:
            for n in range(first, min(first + 500, LETTERS)):
                destination = "audit" if n % 3 == 2 else "crm"
                failed = QueuedDelivery.for_event(make_event(n), destination).with_attempt(
                    AttemptRecord(start + n, "failed", "HTTP 500")
                )
                store.add_to(pipe, failed, "attempts exhausted; last: HTTP 500", now=start + n)
            await pipe.execute()
    yield client
    await client.aclose()


async def snapshot(client: Redis) -> dict[bytes, bytes | None]:
    """Every key's serialized value: equal snapshots mean nothing in Redis changed."""
    return {key: await client.dump(key) async for key in client.scan_iter(count=1000)}


async def hmget_calls(client: Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


async def test_dry_runs_print_the_letters_and_change_nothing(
    config: Path, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await snapshot(redis)
    status, out, err = await cli(capsys, "dlq", "--config", str(config), "replay", "--all", "--dry-run")
    lines = out.splitlines()
    assert status == 0 and err == ""  # not a terminal: no progress line
    assert len(lines) == LETTERS + 1 and lines[0].startswith(f"crm:{make_event(0).id}\t")
    assert lines[-1] == f"would replay {LETTERS} dead letter(s) (dry run: nothing changed)"
    status, out, _ = await cli(
        capsys, "dlq", "--config", str(config), "purge", "--destination", "audit", "--dry-run",
        "--batch-size", "7",
    )  # fmt: skip
    assert status == 0 and out.splitlines()[-1].startswith(f"would purge {LETTERS // 3} ")
    assert all(line.startswith("audit:") for line in out.splitlines()[:-1])
    assert await snapshot(redis) == before


async def test_replay_streams_in_batches_of_the_given_size(
    config: Path, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    await redis.config_resetstat()
    status, out, _ = await cli(
        capsys, "dlq", "--config", str(config), "replay", "--destination", "crm", "--batch-size", "250"
    )
    crm = LETTERS - LETTERS // 3
    assert status == 0 and out == f"replayed {crm} dead letter(s)\n"
    # Read a page at a time: one HMGET per 250 index entries walked (the audit ones stay behind).
    assert await hmget_calls(redis) == math.ceil(LETTERS / 250)
    store = DeadLetterStore(redis, Keys())
    assert await store.count() == LETTERS // 3
    assert {letter.delivery.destination for letter in await store.select()} == {"audit"}
    scheduled = [QueuedDelivery.from_wire(w) for w in await redis.zrange(Keys().retry, 0, -1)]
    assert len(scheduled) == crm and all(d.destination == "crm" and not d.attempts for d in scheduled)


async def test_purge_with_a_limit_takes_the_oldest_batch_by_batch(redis: Redis, settings: Settings) -> None:
    admin = DeliveryAdmin(settings, redis)
    seen: list[tuple[int, int, int]] = []

    def on_batch(batch: list[DeadLetter], done: int, expected: int) -> None:
        seen.append((len(batch), done, expected))

    result = await admin.purge(LetterFilter(since=0, limit=1234), batch_size=500, on_batch=on_batch)
    assert result.count == 1234 and seen == [(500, 500, 1234), (500, 1000, 1234), (234, 1234, 1234)]
    left = await admin.dead_letters(LetterFilter(limit=1))
    assert left[0].id == f"crm:{make_event(1234).id}"  # the oldest 1234 went, in order
    assert await admin.letters.count() == LETTERS - 1234


async def test_a_letter_that_dies_again_during_a_replay_is_not_replayed_twice(
    redis: Redis, settings: Settings
) -> None:
    admin = DeliveryAdmin(settings, redis)
    store = admin.letters

    def die_again(batch: list[DeadLetter], done: int, expected: int) -> None:
        # What a worker does when a replayed delivery fails for good at once: a new, later letter.
        asyncio.get_running_loop().create_task(store.add(batch[0].delivery, "failed again"))

    result = await admin.replay(LetterFilter(), everything=True, batch_size=1000, on_batch=die_again)
    await asyncio.sleep(0.1)
    assert result.count == LETTERS and await store.count() == 3


async def test_progress_is_drawn_on_a_terminal(config: Path, redis: Redis) -> None:
    argv = ["dlq", "--config", str(config), "purge", "--all", "--batch-size", "1000"]
    returncode, out, drawn = await asyncio.to_thread(_run_with_stderr_on_a_terminal, argv)
    assert returncode == 0 and out == f"purged {LETTERS} dead letter(s)\n"
    frames = drawn.replace("\r\n", "\n").split("\r")
    assert [f.strip() for f in frames if f.strip()] == [
        f"purge: {n}/{LETTERS} dead letter(s)" for n in (1000, 2000, 3000)
    ]


def _run_with_stderr_on_a_terminal(argv: list[str]) -> tuple[int, str, str]:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "bridge.cli", *argv], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=terminal, text=True, timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        os.close(terminal)
        terminal = -1
        drawn = b""
        while chunk := _read(controller):
            drawn += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    return process.returncode, process.stdout, drawn.decode()


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the other end closed (EIO on Linux)
        return b""
