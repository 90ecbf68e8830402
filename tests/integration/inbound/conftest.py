"""A real receiver (aiohttp on loopback) in front of the in-process simulator, with a private Redis."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from bridge.config import Settings
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundSettings, hash_api_key
from bridge.inbound.app import RECEIVER_KEY, create_app
from bridge.inbound.receiver import Receiver
from bridge.inbound.server import ReceiverRunner
from bridge.inbound.store import CommandStore
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle

SECRET = "whsec_" + base64.b64encode(b"test-signing-secret-32-bytes-ok!").decode()
CRM_KEY = "crm-api-key-123"
LIMITED_KEY = "limited-api-key-456"


def default_clients() -> list[dict[str, Any]]:
    return [
        {"name": "crm", "api_key_hashes": [hash_api_key(CRM_KEY)], "agents": ["*"]},
        {"name": "widget", "signing_secrets": [SECRET], "agents": ["agent0001"]},
        {"name": "limited", "api_key_hashes": [hash_api_key(LIMITED_KEY)], "groups": ["sales"]},
    ]


@dataclass
class ReceiverHandle:
    url: str
    receiver: Receiver
    http: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        document: Any = None,
        *,
        key: str | None = CRM_KEY,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, Any]:
        """``(status, parsed body, headers)``."""
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        body = raw if raw is not None else (orjson.dumps(document) if document is not None else None)
        async with self.http.request(method, self.url + path, data=body, headers=sent) as response:
            payload = await response.read()
            parsed = orjson.loads(payload) if payload and "json" in response.content_type else payload
            return response.status, parsed, response.headers

    async def command(self, action: str, agent: str = "agent0001", **params: Any) -> tuple[int, Any, Any]:
        return await self.call("POST", "/v1/commands", {"agent": agent, "action": action, "params": params})

    async def status_of(
        self, command_id: str, *, until: str | None = None, within: float = 5.0
    ) -> dict[str, Any]:
        """The command's status record; with ``until``, poll (bounded) until it leaves ``accepted``."""
        import asyncio
        import time

        deadline = time.monotonic() + within
        while True:
            status, body, _ = await self.call("GET", f"/v1/commands/{command_id}")
            assert status == 200, body
            if until is None or body["status"] != "accepted" or time.monotonic() > deadline:
                result: dict[str, Any] = body
                return result
            await asyncio.sleep(0.02)


async def raw_exchange(url: str, request: bytes, within: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as raw bytes on a new connection: ``(status, lower-cased headers, body)``."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), within)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), within)
        return status, headers, body
    finally:
        writer.close()


def signed_headers(body: bytes, *, at: float, msg_id: str = "msg_1", secret: str = SECRET) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, tz=UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}


def settings_for(simulator: SimulatorHandle, redis_url: str, **inbound: Any) -> Settings:
    inbound.setdefault("clients", default_clients())
    inbound.setdefault("outcome_timeout", 3.0)
    groups = {"agent0002": ["sales"]}
    return Settings(
        redis_url=redis_url,
        gws=GwsSettings(base_url=simulator.base_url, request_timeout=5.0),
        agents=[
            AgentConfig(username=name, password=simulator.password, groups=groups.get(name, []))
            for name in simulator.agents
        ],
        inbound=InboundSettings(**inbound),
    )


@pytest.fixture
async def receiver_factory(
    simulator: SimulatorHandle, redis_url: str
) -> AsyncIterator[Callable[..., Awaitable[ReceiverHandle]]]:
    """``await receiver_factory(store_url=… or store=…, **InboundSettings fields)``: a receiver, free port."""
    runners: list[web.AppRunner] = []
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def factory(
        *, store_url: str | None = None, store: CommandStore | None = None, **inbound: Any
    ) -> ReceiverHandle:
        app = create_app(settings_for(simulator, store_url or redis_url, **inbound), store=store)
        runner = ReceiverRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return ReceiverHandle(f"http://127.0.0.1:{port}", app[RECEIVER_KEY], http)

    try:
        yield factory
    finally:
        for runner in runners:
            await runner.cleanup()
        await http.close()


@pytest.fixture
async def receiver(receiver_factory: Callable[..., Awaitable[ReceiverHandle]]) -> ReceiverHandle:
    return await receiver_factory()


async def reason_state(simulator: SimulatorHandle) -> dict[str, Any]:
    """A Not Ready agent state with a reason code, as the GWS under test defines it."""
    async with simulator.agent_client(simulator.agents[-1]) as client:
        status, body = await client.get("/settings/agent-states")
    assert status == 200, body
    states = [s for s in body["settings"] if s.get("reason") and s.get("state") == "NotReady"]
    assert states, "the simulator defines no agent state with a reason code"
    chosen: dict[str, Any] = states[-1]
    return chosen
