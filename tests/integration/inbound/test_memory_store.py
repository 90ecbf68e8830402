"""The in-process command store (``gws-bridge run``/``demo`` without Redis): the same idempotency
and rate limit through the receiver — a replay is answered from the store without a second GWS
call, and the process's own limiter refuses what is over the limit before anything is claimed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bridge.inbound.store import MemoryCommandStore
from tests.integration.inbound.conftest import ReceiverHandle, default_clients


async def test_replay_and_rate_limit_with_the_memory_store(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]], simulator: Any
) -> None:
    clients = default_clients()
    clients[0] = dict(clients[0], rate_limit=0.01, burst=4)  # "crm": m1, its replay, the GET, m2
    receiver = await receiver_factory(store=MemoryCommandStore(), clients=clients)
    await simulator.log(clear=True)
    document = {"agent": "agent0001", "action": "agent.ready"}
    first = await receiver.call("POST", "/v1/commands", document, headers={"Idempotency-Key": "m1"})
    again = await receiver.call("POST", "/v1/commands", document, headers={"Idempotency-Key": "m1"})
    assert first[0] == again[0] == 202 and first[1] == again[1]
    assert again[2].get("Idempotent-Replayed") == "true"
    status = await receiver.status_of(first[1]["id"])
    assert status["status"] in ("accepted", "succeeded")
    third = await receiver.call("POST", "/v1/commands", document, headers={"Idempotency-Key": "m2"})
    assert third[0] == 202
    assert (await receiver.call("POST", "/v1/commands", document, headers={"Idempotency-Key": "m3"}))[
        0
    ] == 429
    posts = [e for e in await simulator.log() if e["method"] == "POST"]
    assert len(posts) == 2, posts  # m1 once, m2 once; the replay and the refused m3 made none
