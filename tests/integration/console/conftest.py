"""A console on a real Redis and a loopback port, with a viewer and an operator key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.inbound import hash_api_key
from bridge.console.app import create_app
from tests.plugins.ports import free_port

VIEWER, OPERATOR = "viewer-key-0123456789", "operator-key-0123456789"


class Console:
    def __init__(self, url: str, settings: Settings, redis: Redis) -> None:
        self.url = url
        self.settings = settings
        self.redis = redis

    def session(self, key: str | None = None) -> aiohttp.ClientSession:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return aiohttp.ClientSession(
            self.url, headers=headers, cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=10),
        )  # fmt: skip


@pytest.fixture
async def console(redis_url: str) -> AsyncIterator[Console]:
    settings = Settings(
        redis_url=redis_url,
        agents=[{"username": "agent1", "password": "pw"}],
        destinations=[{"name": "crm", "kind": "webhook", "url": "http://127.0.0.1:9/hooks"}],
        console={
            "keys": [
                {"name": "vera", "role": "viewer", "api_key_hash": hash_api_key(VIEWER)},
                {"name": "otto", "role": "operator", "api_key_hash": hash_api_key(OPERATOR)},
            ],
            "masked_keys": ["ssn"],
        },
    )
    redis = Redis.from_url(redis_url)
    runner = web.AppRunner(create_app(settings, redis=redis))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield Console(f"http://127.0.0.1:{port}", settings, redis)
    await runner.cleanup()
    await redis.aclose()
