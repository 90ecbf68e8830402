"""AgentSession against the simulator: live events, CometD drops, GWS restarts, state in Redis.

Events are collected by a sink that keeps what it is given; the GWS side is
the in-process simulator, the state store a real Redis. For the drop test a
real TCP proxy on loopback stalls the network so that calls start and end
while the session cannot hear about them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis

from bridge.config.gws import GwsSettings
from bridge.events import Event
from bridge.gws import operations
from bridge.gws.session import AgentSession, Backoff
from bridge.gws.state_store import RedisStateStore
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle

CALL_STATES = ("call.ringing", "call.established", "call.released")


class CollectingSink:
    """An EventSink that keeps every event it is handed, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def for_call(self, call_id: str) -> list[Event]:
        return [e for e in self.events if e.subject == f"call/{call_id}"]

    def states_of(self, call_id: str) -> list[str]:
        return [e.type for e in self.for_call(call_id) if e.type in CALL_STATES]


async def wait_until(condition: Callable[[], bool], *, within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


class StallingProxy:
    """A TCP proxy on 127.0.0.1 whose forwarding can be stalled, like a network that stops answering."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def stall(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    def cut(self) -> None:
        """Drop every connection and refuse new ones until :meth:`heal` (a network outage)."""
        self.refusing = True
        for writer in self._writers:
            writer.close()

    def heal(self) -> None:
        self.refusing = False

    refusing = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis) -> RedisStateStore:
    return RedisStateStore(redis)


@asynccontextmanager
async def running_session(
    base_url: str, agent: str, sink: CollectingSink, store: RedisStateStore | None, **options: Any
) -> AsyncIterator[AgentSession]:
    """An AgentSession running until the block ends; entered once it is connected and recovered."""
    session = AgentSession(
        GwsSettings(base_url=base_url), agent, "password", sink=sink, state_store=store, **options
    )
    task = asyncio.create_task(session.run())
    try:
        await wait_until(
            lambda: session.status.connected and session.status.recoveries >= 1,
            what=f"{agent}'s session to connect",
        )
        yield session
    finally:
        await session.stop()
        await asyncio.wait_for(task, timeout=10)


async def wait_for_state(sink: CollectingSink, call_id: str, event_type: str, within: float = 10.0) -> None:
    await wait_until(
        lambda: event_type in sink.states_of(call_id), within=within, what=f"{event_type} of call {call_id}"
    )


def assert_no_duplicate_ids(sink: CollectingSink) -> None:
    ids = [event.id for event in sink.events]
    assert len(ids) == len(set(ids)), f"duplicate event ids: {sorted(i for i in ids if ids.count(i) > 1)}"


async def test_call_events_come_out_in_order_exactly_once(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    sink = CollectingSink()
    async with running_session(simulator.base_url, "agent0001", sink, store) as session:
        call_id = await simulator.start_call("agent0001", user_data={"CaseId": "42"})
        await wait_for_state(sink, call_id, "call.ringing")
        await operations.answer(session.rest, call_id)
        await wait_for_state(sink, call_id, "call.established")
        await simulator.release_call(call_id)
        await wait_for_state(sink, call_id, "call.released")
        await asyncio.sleep(0.2)  # anything late would be a duplicate

    assert sink.states_of(call_id) == ["call.ringing", "call.established", "call.released"]
    ringing = next(e for e in sink.for_call(call_id) if e.type == "call.ringing")
    assert ringing.partitionkey == "agent0001"
    assert ringing.data["user_data"]["CaseId"] == "42"
    sequences = [e.sequence for e in sink.for_call(call_id)]
    assert sequences == sorted(sequences)
    assert_no_duplicate_ids(sink)
    assert session.status.messages >= 3
    assert session.status.last_message_at is not None


async def test_calls_during_a_cometd_drop_come_out_exactly_once(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    proxy = StallingProxy(int(simulator.base_url.rsplit(":", 1)[1]))
    await proxy.start()
    sink = CollectingSink()
    try:
        async with running_session(proxy.base_url, "agent0001", sink, store) as session:
            before = await simulator.start_call("agent0001")  # rings before the drop, ends in the gap
            await wait_for_state(sink, before, "call.ringing")
            recoveries = session.status.recoveries

            proxy.stall()  # the session hears nothing from now on
            assert await simulator.disconnect_cometd() == 1
            await simulator.release_call(before)
            across = await simulator.start_call("agent0001")  # rings in the gap, still up after it
            inside = await simulator.start_call("agent0001")  # rings and ends within the gap
            await simulator.release_call(inside)
            await asyncio.sleep(0.3)
            assert not sink.for_call(across) and not sink.for_call(inside)
            proxy.resume()

            await wait_until(lambda: session.status.recoveries > recoveries, what="recovery after the drop")
            await wait_for_state(sink, before, "call.released")
            await wait_for_state(sink, across, "call.ringing")
            await wait_for_state(sink, inside, "call.released")
            after = await simulator.start_call("agent0001")  # live again
            await simulator.release_call(across)
            await wait_for_state(sink, across, "call.released")
            await wait_for_state(sink, after, "call.ringing")
            await asyncio.sleep(0.3)
    finally:
        await proxy.close()

    assert sink.states_of(before) == ["call.ringing", "call.released"]
    assert sink.states_of(across) == ["call.ringing", "call.released"]
    # Known only from the snapshot (GWS still lists it, Released): it appears, ending released, once.
    assert sink.states_of(inside)[-1] == "call.released"
    assert sink.states_of(inside).count("call.released") == 1
    assert sink.states_of(after) == ["call.ringing"]
    assert_no_duplicate_ids(sink)
    assert session.status.reconnects >= 1
    recovered = [e for e in sink.events if e.data.get("recovered")]
    assert {e.subject for e in recovered} >= {f"call/{before}", f"call/{across}", f"call/{inside}"}


async def test_after_a_re_handshake_the_state_is_read_only_once_gws_confirmed_the_subscriptions(
    simulator: SimulatorHandle, store: RedisStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GWS replays nothing: a call that rings after the state was read but before GWS has
    processed the re-subscription would be neither in the snapshot nor heard. Here GWS
    processes the re-subscription only once the call has rung, 0.3 s after the re-handshake."""
    assert simulator.sim is not None
    protocol = simulator.sim.bayeux._protocol
    process = protocol.process
    slow, rang = asyncio.Event(), asyncio.Event()

    async def slow_subscribe(messages: list[Any], user: str, pusher: Any = None) -> Any:
        if slow.is_set() and any(
            isinstance(m, dict) and m.get("channel") == "/meta/subscribe" for m in messages
        ):
            await asyncio.wait_for(rang.wait(), timeout=10)
        return await process(messages, user, pusher)

    monkeypatch.setattr(protocol, "process", slow_subscribe)
    sink = CollectingSink()
    async with running_session(simulator.base_url, "agent0001", sink, store) as session:
        slow.set()
        assert await simulator.disconnect_cometd() == 1
        await wait_until(lambda: simulator.sim is not None and simulator.sim.bayeux.client_count == 1,
                         what="the re-handshake")  # fmt: skip
        await asyncio.sleep(0.3)
        call_id = await simulator.start_call("agent0001")  # GWS publishes it to nobody
        rang.set()
        await wait_for_state(sink, call_id, "call.ringing", within=5.0)
        assert session.status.recoveries >= 2
    [ringing] = sink.for_call(call_id)
    assert ringing.data["recovered"] is True


async def test_a_network_outage_without_re_handshake_is_followed_by_recovery(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    proxy = StallingProxy(int(simulator.base_url.rsplit(":", 1)[1]))
    await proxy.start()
    sink = CollectingSink()
    try:
        async with running_session(proxy.base_url, "agent0001", sink, store) as session:
            recoveries, reconnects = session.status.recoveries, session.status.reconnects
            proxy.cut()  # GWS keeps our CometD client: this is a reconnect, not a re-handshake
            await wait_until(lambda: not session.status.connected, what="the session to notice")
            call_id = await simulator.start_call("agent0001")
            await simulator.release_call(call_id)
            proxy.heal()

            await wait_until(lambda: session.status.recoveries > recoveries, what="recovery after the outage")
            await wait_for_state(sink, call_id, "call.released")
            await asyncio.sleep(0.3)
            assert session.status.connected
            assert session.status.reconnects > reconnects
    finally:
        await proxy.close()

    assert sink.states_of(call_id).count("call.released") == 1
    assert_no_duplicate_ids(sink)


async def test_session_logs_in_again_after_gws_restart(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    sink = CollectingSink()
    async with running_session(simulator.base_url, "agent0001", sink, store) as session:
        old_csrf = session.rest.csrf
        await simulator.log(clear=True)
        restarted_at = time.time()
        await simulator.restart()

        await wait_until(lambda: session.status.recoveries >= 2, what="recovery after the restart")
        call_id = await simulator.start_call("agent0001")
        await wait_for_state(sink, call_id, "call.ringing")
        await operations.answer(session.rest, call_id)  # a POST: needs the new session's CSRF token
        await wait_for_state(sink, call_id, "call.established")
        await simulator.release_call(call_id)
        await wait_for_state(sink, call_id, "call.released")

    logins = [
        entry
        for entry in await simulator.log(agent="agent0001")
        if entry["method"] == "GET" and entry["path"] == "/api/v2/me" and entry["time"] >= restarted_at
    ]
    assert logins, "no login after the restart"
    assert session.rest.csrf is None or session.rest.csrf != old_csrf or old_csrf is None
    assert sink.states_of(call_id) == ["call.ringing", "call.established", "call.released"]
    assert_no_duplicate_ids(sink)


async def test_next_holder_carries_on_from_the_state_in_redis(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    first, second = CollectingSink(), CollectingSink()
    async with running_session(simulator.base_url, "agent0002", first, store):
        call_id = await simulator.start_call("agent0002")
        await wait_for_state(first, call_id, "call.ringing")
    await simulator.release_call(call_id)  # nobody holds the agent now

    async with running_session(simulator.base_url, "agent0002", second, store):
        await wait_for_state(second, call_id, "call.released")
        await asyncio.sleep(0.2)

    assert first.states_of(call_id) == ["call.ringing"]
    assert second.states_of(call_id) == ["call.released"]  # not rung a second time
    assert not {e.id for e in first.events} & {e.id for e in second.events}


async def test_sink_failures_are_retried_without_losing_or_repeating_events(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    class FlakySink(CollectingSink):
        failures = 2

        async def publish(self, events: Sequence[Event]) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("queue unavailable")
            await super().publish(events)

    sink = FlakySink()
    async with running_session(simulator.base_url, "agent0003", sink, store) as session:
        call_id = await simulator.start_call("agent0003")
        await wait_for_state(sink, call_id, "call.ringing")
        await simulator.release_call(call_id)
        await wait_for_state(sink, call_id, "call.released")

    assert sink.failures == 0
    assert sink.states_of(call_id) == ["call.ringing", "call.released"]
    assert session.status.last_error is not None and "queue unavailable" in session.status.last_error
    assert_no_duplicate_ids(sink)


async def test_wrong_password_is_retried_with_backoff_and_never_logged(
    simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-Secret-4711"
    session = AgentSession(
        GwsSettings(base_url=simulator.base_url), "agent0004", secret, sink=CollectingSink(),
        backoff_initial=0.05, backoff_cap=0.1,
    )  # fmt: skip
    task = asyncio.create_task(session.run())
    try:
        await wait_until(lambda: session.status.last_error is not None, what="a login failure")
        await asyncio.sleep(0.3)  # a few more attempts
    finally:
        await session.stop()
        await asyncio.wait_for(task, timeout=10)

    assert not session.status.connected
    assert "agent0004" in caplog.text
    assert secret not in caplog.text
    assert secret not in (session.status.last_error or "")
    attempts = [r for r in caplog.records if r.getMessage().startswith("agent session agent0004 failed")]
    assert len(attempts) >= 2


async def test_stop_disconnects_from_cometd(simulator: SimulatorHandle) -> None:
    async with running_session(simulator.base_url, "agent0005", CollectingSink(), None) as session:
        assert (await simulator.status())["cometdClients"] == 1
    assert not session.status.connected
    assert (await simulator.status())["cometdClients"] == 0


def test_backoff_grows_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(initial=1.0, cap=8.0)
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    for _ in range(5000):  # days of failures: still capped, never an overflow
        assert 4.0 <= backoff.next_delay() <= 8.0
    backoff.reset()
    assert backoff.next_delay() <= 1.0


async def test_session_can_start_the_contact_center_session(simulator: SimulatorHandle) -> None:
    await simulator.log(clear=True)
    async with running_session(simulator.base_url, "agent0002", CollectingSink(), None, channels=["voice"]):
        pass

    starts = [
        entry["body"]
        for entry in await simulator.log(agent="agent0002")
        if entry["method"] == "POST" and entry["path"] == "/api/v2/me"
    ]
    assert starts and starts[0]["operationName"] == "StartContactCenterSession"
    assert starts[0]["channels"] == ["voice"]
