"""The Redis command store's scripts: a status save is one script (record, index, trim), and every
script still runs when Redis has forgotten it (SCRIPT FLUSH, a restart)."""

from __future__ import annotations

import redis.asyncio as aioredis

from bridge.config.keys import DEFAULT_KEYS
from bridge.inbound.store import RedisCommandStore

KEYS = DEFAULT_KEYS.inbound


async def test_a_status_save_writes_the_record_and_a_bounded_index_after_a_script_flush(redis_url: str):
    store = RedisCommandStore(redis_url, index_size=3)
    client = aioredis.Redis.from_url(redis_url)
    try:
        for n in range(5):
            if n in (0, 3):
                await client.script_flush()  # NOSCRIPT: the store falls back to EVAL
            await store.save_status({"id": f"cmd{n}", "status": "accepted"}, ttl=30)
        assert await store.load_status("cmd4") == {"id": "cmd4", "status": "accepted"}
        index = await client.zrange(KEYS.command_index, 0, -1)
        assert [m.decode() for m in index] == ["cmd2", "cmd3", "cmd4"]
        assert 0 < await client.pttl(KEYS.command("cmd4")) <= 30_000
        await client.script_flush()
        assert await store.take_token("bench", 1.0, 1) == 0.0
        assert (await store.take_token("bench", 1.0, 1) or 0) > 0
    finally:
        await store.aclose()
        await client.aclose()


async def test_admit_takes_a_token_then_claims_and_answers_a_replay_after_a_script_flush(redis_url: str):
    from bridge.inbound.store import StoredReply

    store = RedisCommandStore(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.script_flush()
        assert await store.admit("crm", 0.01, 2, "k", "fp") == (0.0, None)  # claimed
        reply = StoredReply(202, {"id": "c1"}, {"Content-Type": "application/json"})
        await store.complete("crm", "k", "fp", reply, ttl=30)
        wait, stored = await store.admit("crm", 0.01, 2, "k", "fp")
        assert wait == 0.0 and stored == reply
        wait, stored = await store.admit("crm", 0.01, 2, "k2", "fp")  # the bucket is empty now
        assert wait is not None and wait > 0 and stored is None
        assert await client.exists(KEYS.idempotency("crm", "k2")) == 0
    finally:
        await store.aclose()
        await client.aclose()
