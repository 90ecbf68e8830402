"""The agents' note wake-ups (bridge.gws.notes) stop when cancelled, Redis up or not."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from redis.asyncio import Redis

from bridge.config.keys import DEFAULT_KEYS
from bridge.gws.notes import AgentNotes
from tests.plugins.ports import free_port


async def test_a_cancelled_listener_stops_even_while_redis_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # redis-py turns about one cancellation in thirty into a RedisError while it cannot connect;
    # the listener resubscribed then, so the pool's stop waited on it forever (and a SIGTERMed
    # subscriber outlived its demo, retrying every second)
    caplog.set_level(logging.ERROR, logger="bridge.gws.notes")
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    notes = AgentNotes(redis, DEFAULT_KEYS.notes)
    chance = random.Random(7)
    try:
        for attempt in range(80):
            listener = asyncio.create_task(notes.listen(lambda agent: None, retry_delay=0.01))
            await asyncio.sleep(chance.uniform(0, 0.04))
            listener.cancel()
            done, _ = await asyncio.wait({listener}, timeout=2.0)
            assert done, f"cancel {attempt} did not stop the listener"
            assert listener.cancelled()
    finally:
        await redis.aclose()


async def test_a_cancelled_listener_stops_with_redis_up(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    notes = AgentNotes(redis, DEFAULT_KEYS.notes)
    woken: list[str] = []
    listener = asyncio.create_task(notes.listen(woken.append))
    try:
        for _ in range(50):  # until it is subscribed
            await notes.file("agent0001", {"kind": "test"})
            if woken:
                break
            await asyncio.sleep(0.05)
        assert woken and woken[0] == "agent0001"
    finally:
        listener.cancel()
        done, _ = await asyncio.wait({listener}, timeout=2.0)
        await redis.aclose()
    assert done and listener.cancelled()
