"""The statistics poller against the simulator and a real Redis: values, ranges, errors and
backoff, a GWS restart, and one poller across two subscriber processes (the lease)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bridge.config.keys import Keys
from bridge.config.statistics import StatisticsObject
from bridge.events import Event
from bridge.gws.errors import GwsNotFoundError
from bridge.gws.rest import GwsRestClient
from bridge.gws.statistics import StatisticsPoller, read_range, read_snapshot

KEYS = Keys("t")
QUEUE = StatisticsObject(
    object_id="VQ_Support",
    name="Support",
    statistics=["Current_In_Queue", "Total_Answered", "ServiceLevel", "CurrMaxCallWaitingTime"],
    interval=1,
    thresholds=["Current_In_Queue > 10"],
)


class ListSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def poller(simulator: Any, redis: Redis, sink: ListSink, objects: list[StatisticsObject], **kw: Any):
    clients: dict[str | None, GwsRestClient] = {}

    def client_for(user: str | None) -> GwsRestClient:
        if user not in clients:
            clients[user] = GwsRestClient(simulator.base_url, user or "agent0001", "password", timeout=5.0)
        return clients[user]

    made = StatisticsPoller(objects, client_for, redis, KEYS, sink, owner=kw.pop("owner", "one"), **kw)
    made.clients = clients  # type: ignore[attr-defined]
    return made


async def close(made: StatisticsPoller) -> None:
    for client in made.clients.values():  # type: ignore[attr-defined]
        await client.aclose()


async def overload(simulator: Any, waiting: int) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{simulator.base_url}/sim/queues/VQ_Support/overload", json={"waiting": waiting}) as r,
    ):
        assert r.status == 200


async def test_values_become_events_and_a_snapshot(simulator, redis) -> None:
    sink = ListSink()
    made = poller(simulator, redis, sink, [QUEUE])
    try:
        assert await made.poll(QUEUE) == 1
        first = sink.of("stats.updated")[0]
        assert first.data["values"] == {
            "Current_In_Queue": 0, "Total_Answered": 0, "ServiceLevel": 100.0, "CurrMaxCallWaitingTime": 0,
        }  # fmt: skip
        assert await made.poll(QUEUE) == 0  # nothing changed: no event
        await overload(simulator, 12)
        assert await made.poll(QUEUE) == 2
        updated, crossed = sink.events[-2:]
        assert updated.data["changed"] == {"Current_In_Queue": 12}
        assert crossed.type == "stats.threshold_crossed" and crossed.data["breached"] is True
        snapshot = await read_snapshot(redis, KEYS, "support")  # by name, any case
        assert snapshot is not None and snapshot["values"]["Current_In_Queue"] == 12
        assert snapshot["breached"] == ["Current_In_Queue > 10"]
        assert await read_snapshot(redis, KEYS, "VQ_Support") == snapshot
        assert await read_snapshot(redis, KEYS, "nowhere") is None
        # ranges: the values the simulator recorded, newest first
        client = made.client_for(None)
        values = await read_range(client, "VQ_Support", "Current_In_Queue", num_values=10)
        assert [v for v, _ in values] == [12, 0]
        newest = values[0][1]
        assert [
            v for v, _ in await read_range(client, "VQ_Support", "Current_In_Queue", start_ms=newest)
        ] == [12]
        assert len(await read_range(client, "VQ_Support", "Current_In_Queue")) == 1
    finally:
        await close(made)


async def test_errors_back_off_and_other_objects_carry_on(simulator, redis) -> None:
    sink = ListSink()
    missing = StatisticsObject(object_id="VQ_Nowhere", interval=1)
    made = poller(simulator, redis, sink, [missing, QUEUE], backoff_cap=30)
    try:
        with pytest.raises(GwsNotFoundError):
            await made.poll(missing)
        await made.round()
        assert made.failures == 1 and made.reads == 1
        assert len(sink.of("stats.updated")) == 1  # the queue was read despite the missing object
        await made.round()  # the missing object is not due yet (backoff), the queue not either
        assert made.failures == 1
        assert made._backoff["VQ_Nowhere"].attempt == 1
    finally:
        await close(made)


async def test_a_gws_restart_is_survived(simulator_process, redis) -> None:
    sink = ListSink()
    made = poller(simulator_process, redis, sink, [QUEUE])
    try:
        await overload(simulator_process, 3)
        await made.round()
        assert sink.of("stats.updated")[-1].data["values"]["Current_In_Queue"] == 3
        simulator_process.process.stop()
        made._due["VQ_Support"] = 0
        await made.round()  # GWS down: a failure, logged, retried later
        assert made.failures == 1
        simulator_process.process.start()
        made._due["VQ_Support"] = 0
        await made.round()  # a new GWS: new session, counters from zero
        assert made.failures == 1 and made.reads == 2
        assert sink.of("stats.updated")[-1].data["changed"] == {"Current_In_Queue": 0}
    finally:
        await close(made)


async def test_only_the_lease_holder_polls_and_another_takes_over(simulator, redis) -> None:
    sinks = [ListSink(), ListSink()]
    pollers = [
        poller(simulator, redis, sinks[i], [QUEUE], owner=name, lease_ttl=0.6)
        for i, name in enumerate(["first", "second"])
    ]
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    try:
        for _ in range(100):
            if any(p.reads for p in pollers):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        holders = [p for p in pollers if p.holding]
        assert len(holders) == 1 and sum(1 for p in pollers if p.reads) == 1
        holder, other = holders[0], next(p for p in pollers if p is not holders[0])
        holder.stop()
        await asyncio.wait_for(tasks[pollers.index(holder)], 5)
        await overload(simulator, 4)
        for _ in range(100):
            if other.reads:
                break
            await asyncio.sleep(0.05)
        assert other.holding and other.reads >= 1
        # it carried on from the snapshot the first one kept: only the change is reported
        taken_over = sinks[pollers.index(other)].of("stats.updated")
        assert taken_over[0].data["changed"] == {"Current_In_Queue": 4}
    finally:
        for p in pollers:
            p.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        for p in pollers:
            await close(p)
