"""The console's sign-in is rate-limited per client address and per key, in Redis (every replica)."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bridge.console.app import create_app
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE
from tests.integration.console.conftest import OPERATOR, VIEWER, Console
from tests.plugins.ports import free_port

SIGN_IN = "/v1/admin/session"
BURST = 10  # [console] sign_in_burst default; sign_in_rate 10 a minute refills one in 6 s


def _from(console: Console, address: str, url: str | None = None) -> aiohttp.ClientSession:
    """A client whose connections come from ``address`` (any 127.x.y.z is this host on Linux)."""
    return aiohttp.ClientSession(
        url or console.url, connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        timeout=aiohttp.ClientTimeout(total=10),
    )  # fmt: skip


async def test_one_address_guessing_keys_is_refused_with_429_and_retry_after(console: Console) -> None:
    async with _from(console, "127.0.0.1") as http:
        for n in range(BURST):
            async with http.post(SIGN_IN, json={"key": f"guess-{n}"}) as reply:
                assert reply.status == 401
        async with http.post(SIGN_IN, json={"key": OPERATOR}) as reply:  # even the right key, now
            body = await reply.json(content_type=None)
            assert reply.status == 429 and reply.content_type == PROBLEM_CONTENT_TYPE
            assert body["status"] == 429 and body["type"].endswith("rate-limited")
            assert 1 <= int(reply.headers["Retry-After"]) <= 6
            assert "gwsb_console" not in reply.cookies
    async with _from(console, "127.0.0.2") as http, http.post(SIGN_IN, json={"key": OPERATOR}) as reply:
        assert reply.status == 200  # another address is not held back by that one


async def test_one_key_tried_from_many_addresses_is_refused(console: Console) -> None:
    for n in range(BURST):
        async with (
            _from(console, f"127.0.1.{n + 1}") as http,
            http.post(SIGN_IN, json={"key": VIEWER}) as reply,
        ):
            assert reply.status == 200
    async with _from(console, "127.0.2.1") as http:
        async with http.post(SIGN_IN, json={"key": VIEWER}) as reply:
            assert reply.status == 429 and int(reply.headers["Retry-After"]) >= 1
        async with http.post(SIGN_IN, json={"key": OPERATOR}) as reply:
            assert reply.status == 200


async def test_the_buckets_are_in_redis_so_every_console_replica_shares_them(console: Console) -> None:
    other = web.AppRunner(create_app(console.settings))  # its own Redis client, closed with it
    await other.setup()
    port = free_port()
    await web.TCPSite(other, "127.0.0.1", port).start()
    try:
        urls = [console.url, f"http://127.0.0.1:{port}"]
        for n in range(BURST):
            async with _from(console, "127.0.3.1", urls[n % 2]) as http:
                async with http.post(SIGN_IN, json={"key": f"guess-{n}"}) as reply:
                    assert reply.status == 401
        for url in urls:
            async with (
                _from(console, "127.0.3.1", url) as http,
                http.post(SIGN_IN, json={"key": VIEWER}) as reply,
            ):
                assert reply.status == 429
    finally:
        await other.cleanup()
    buckets = [key async for key in console.redis.scan_iter(match="gwsb:console:sign-in:*")]
    assert buckets and not any(VIEWER.encode() in key or b"guess" in key for key in buckets)
