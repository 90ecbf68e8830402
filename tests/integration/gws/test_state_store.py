"""MemoryState and RedisStateStore: one contract, and persistence against a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
import pytest
import redis.asyncio

from bridge.gws.state_store import RedisStateStore
from bridge.normalize import MemoryState, StaleStateError, normalize
from bridge.normalize.state import EPOCH_BLOCK

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gws"
AGENT = "jsmith"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def store(client: redis.asyncio.Redis) -> RedisStateStore:
    return RedisStateStore(client, prefix="test:state:")


StateFactory = Callable[[], Awaitable[MemoryState]]


@pytest.fixture(params=["memory", "redis"])
def new_state(request: pytest.FixtureRequest) -> StateFactory:
    if request.param == "memory":

        async def memory() -> MemoryState:
            return MemoryState()

        return memory
    store: RedisStateStore = request.getfixturevalue("store")

    async def loaded() -> MemoryState:
        return await store.load(AGENT)

    return loaded


# ---- the contract, for both implementations ----


async def test_get_set_delete_subjects(new_state: StateFactory) -> None:
    state = await new_state()
    assert state.get("call/1") is None
    state.set("call/1", {"d": {"state": "Ringing"}})
    state.set("call/2", {"x": 1})
    state.set("device/9", {"y": [1, 2]})
    assert state.get("call/1") == {"d": {"state": "Ringing"}}
    assert sorted(state.subjects("call/")) == ["call/1", "call/2"]
    assert sorted(state.subjects()) == ["call/1", "call/2", "device/9"]
    state.delete("call/1")
    assert state.get("call/1") is None
    assert state.subjects("call/") == ["call/2"]
    state.delete("never/there")


async def test_sequences_count_per_subject_from_one(new_state: StateFactory) -> None:
    state = await new_state()
    assert [state.next_sequence("a") for _ in range(3)] == [1, 2, 3]
    assert state.next_sequence("b") == 1
    assert state.next_sequence("a") == 4


async def test_deleted_subject_never_restarts_its_sequence(new_state: StateFactory) -> None:
    state = await new_state()
    for _ in range(5):
        state.next_sequence("call/1")
    state.delete("call/1")
    assert state.next_sequence("call/1") > 5


async def test_normalizer_runs_on_either_state(new_state: StateFactory) -> None:
    state = await new_state()
    blob = (FIXTURES / "cometd_call_StatusChange_Ringing_toast.json").read_bytes()
    events = normalize(blob, agent=AGENT, state=state)
    assert [e.sequence for e in events] == [1]
    assert normalize(blob, agent=AGENT, state=state) == []


# ---- Redis persistence ----


async def test_saved_state_continues_in_a_replacement(store: RedisStateStore) -> None:
    names = ["cometd_call_StatusChange_Ringing_toast.json", "cometd_call_StatusChange_Established_case.json"]
    first = await store.load(AGENT)
    ringing = normalize((FIXTURES / names[0]).read_bytes(), agent=AGENT, state=first)
    await store.save(AGENT, first)

    replacement = await store.load(AGENT)
    assert normalize((FIXTURES / names[0]).read_bytes(), agent=AGENT, state=replacement) == []  # diff kept
    (established,) = normalize((FIXTURES / names[1]).read_bytes(), agent=AGENT, state=replacement)
    assert established.data["previous_state"] == "Ringing"
    assert established.sequence > ringing[0].sequence


async def test_sequences_never_go_backwards_when_a_save_is_lost(store: RedisStateStore) -> None:
    holder = await store.load(AGENT)
    handed_out = [holder.next_sequence("agent/x") for _ in range(3)]
    await store.save(AGENT, holder)
    handed_out += [holder.next_sequence("agent/x") for _ in range(4)]  # published, then crash: no save
    replacement = await store.load(AGENT)
    assert replacement.next_sequence("agent/x") > max(handed_out)
    assert replacement.next_sequence("agent/x") >= EPOCH_BLOCK


async def test_stale_holder_cannot_overwrite_a_newer_one(store: RedisStateStore) -> None:
    old = await store.load(AGENT)
    new = await store.load(AGENT)
    new.set("call/1", {"d": {"state": "Established"}})
    await store.save(AGENT, new)
    old.set("call/1", {"d": {"state": "Ringing"}})
    with pytest.raises(StaleStateError):
        await store.save(AGENT, old)
    assert (await store.load(AGENT)).get("call/1") == {"d": {"state": "Established"}}


async def test_save_writes_only_what_changed(store: RedisStateStore, client: redis.asyncio.Redis) -> None:
    state = await store.load(AGENT)
    state.set("a", {"v": 1})
    state.set("b", {"v": 2})
    await store.save(AGENT, state)
    assert not state.changes()
    await client.hset(store.key(AGENT), "v:b", orjson.dumps({"v": "written by someone else"}))
    state.set("a", {"v": 3})
    assert set(state.changes().values) == {"a"}
    await store.save(AGENT, state)
    stored = await client.hgetall(store.key(AGENT))
    assert orjson.loads(stored[b"v:a"]) == {"v": 3}
    assert orjson.loads(stored[b"v:b"]) == {"v": "written by someone else"}  # untouched


async def test_deletions_and_retired_floor_are_persisted(store: RedisStateStore) -> None:
    state = await store.load(AGENT)
    state.set("call/1", {"x": 1})
    for _ in range(7):
        state.next_sequence("call/1")
    state.delete("call/1")
    await store.save(AGENT, state)
    again = await store.load(AGENT)
    assert again.get("call/1") is None
    assert again.next_sequence("call/1") > 7


async def test_change_made_during_a_save_is_not_lost(store: RedisStateStore) -> None:
    state = await store.load(AGENT)
    state.set("a", {"v": 1})
    changes = state.changes()
    state.set("a", {"v": 2})  # e.g. a message normalized while the save was in flight
    state.mark_saved(changes)
    assert state.changes().values == {"a": {"v": 2}}


async def test_empty_agent_loads_empty(store: RedisStateStore) -> None:
    state = await store.load("nobody")
    assert state.subjects() == []
    assert state.next_sequence("x") == 1


async def test_large_save_round_trips(store: RedisStateStore) -> None:
    state = await store.load(AGENT)
    for i in range(3000):
        state.set(f"call/{i}", {"i": i})
        state.next_sequence(f"call/{i}")
    await store.save(AGENT, state)
    for i in range(0, 3000, 2):
        state.delete(f"call/{i}")
    await store.save(AGENT, state)
    again = await store.load(AGENT)
    assert len(again.subjects("call/")) == 1500
    assert again.get("call/1") == {"i": 1}


async def test_replacement_after_a_lost_save_rederives_the_same_event_ids(store: RedisStateStore) -> None:
    from bridge.normalize import Snapshot, normalize_snapshot

    ringing = (FIXTURES / "cometd_call_StatusChange_Ringing_toast.json").read_bytes()
    established = (FIXTURES / "cometd_call_StatusChange_Established_case.json").read_bytes()
    holder = await store.load(AGENT)
    normalize(ringing, agent=AGENT, state=holder)
    await store.save(AGENT, holder)
    (published,) = normalize(established, agent=AGENT, state=holder)  # handed on, then the holder dies

    by_recovery = await store.load(AGENT)
    call = orjson.loads(established)["data"]["call"]
    (recovered,) = normalize_snapshot(Snapshot(calls={"calls": [call]}), agent=AGENT, state=by_recovery)
    assert recovered.id == published.id
    assert recovered.sequence > published.sequence

    by_replay = await store.load(AGENT)
    (replayed,) = normalize(established, agent=AGENT, state=by_replay)
    assert replayed.id == published.id
