"""Agent sessions for commands: logged in on demand, reused, logged in again when GWS forgets them."""

from __future__ import annotations

from typing import Any

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle


def _logins(entries: list[dict[str, Any]]) -> int:
    return sum(1 for e in entries if e["method"] == "GET" and e["path"] == "/api/v2/me")


async def test_a_session_is_opened_once_and_reopened_after_gws_forgets_it(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    for action in ("agent.ready", "agent.not_ready", "agent.ready"):
        status, body, _ = await receiver.command(action)
        assert status == 202
        assert (await receiver.status_of(body["id"], until="settled"))["status"] == "succeeded"
    assert _logins(await simulator.log(clear=True)) == 1

    await simulator.restart()  # every HTTP session and CometD client is gone
    status, body, _ = await receiver.command("agent.not_ready")
    assert status == 202, body
    entries = await simulator.log()
    assert _logins(entries) >= 1
    assert [e["body"] for e in entries if e["method"] == "POST"] == [{"operationName": "NotReady"}]
    record = await receiver.status_of(body["id"], until="settled", within=8)
    assert record["status"] == "succeeded", record


async def test_the_state_store_being_down_is_503_and_not_ready(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    from tests.plugins.ports import free_port

    receiver = await receiver_factory(store_url=f"redis://127.0.0.1:{free_port()}/0")
    status, body, _ = await receiver.call(
        "POST",
        "/v1/commands",
        {"agent": "agent0001", "action": "agent.ready"},
        headers={"Idempotency-Key": "k"},
    )
    assert status == 503 and body["status"] == 503
    assert [e for e in await simulator.log() if e["method"] == "POST"] == []
    assert (await receiver.call("GET", "/readyz", key=None))[0] == 503


async def test_a_state_store_that_never_answers_is_503_within_its_timeout(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    """A Redis that accepts connections and then says nothing (hung, paused): bounded by the store's
    per-pipeline deadline, the request is refused with 503 and makes no GWS call."""
    import asyncio
    import time

    from bridge.inbound.store import RedisCommandStore

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)  # until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        store = RedisCommandStore(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        receiver = await receiver_factory(store=store)
        started = time.monotonic()
        status, body, _ = await receiver.call(
            "POST",
            "/v1/commands",
            {"agent": "agent0001", "action": "agent.ready"},
            headers={"Idempotency-Key": "k"},
        )
        assert status == 503 and body["status"] == 503
        assert time.monotonic() - started < 3
        assert (await receiver.call("GET", "/readyz", key=None))[0] == 503
        assert [e for e in await simulator.log() if e["method"] == "POST"] == []
    finally:
        server.close()


async def test_an_idle_outcome_listener_closes_and_comes_back_when_needed(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    import asyncio

    receiver = await receiver_factory(listener_idle_timeout=0.2)
    listeners = receiver.receiver.executor.listeners
    _, body, _ = await receiver.command("agent.ready")
    assert (await receiver.status_of(body["id"], until="settled"))["status"] == "succeeded"
    assert listeners.running() == ["agent0001"]
    assert b"gwsb_outcome_listeners 1.0" in (await receiver.call("GET", "/metrics", key=None))[1]
    for _ in range(100):  # bounded: 5 s
        if not listeners.running():
            break
        await asyncio.sleep(0.05)
    assert listeners.running() == []
    assert b"gwsb_outcome_listeners 0.0" in (await receiver.call("GET", "/metrics", key=None))[1]
    _, body, _ = await receiver.command("agent.not_ready")
    assert (await receiver.status_of(body["id"], until="settled"))["status"] == "succeeded"
