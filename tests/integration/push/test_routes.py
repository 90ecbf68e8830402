"""The registry's HTTP routes on a real aiohttp server: the receiver's app, verification, authorization."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.config import Settings
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundClient, InboundSettings
from bridge.inbound.app import create_app
from bridge.mobile.registry import DeviceRegistry
from tests.integration.push.conftest import AGENT, android_token, ios_token

KEY = "test-key-for-the-mobile-app"
LIMITED_KEY = "test-key-limited-to-bob"


def _hash(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture
async def client(redis_url: str, registry: DeviceRegistry) -> AsyncIterator[TestClient[Any, Any]]:
    # GWS is never reached: registry requests make no GWS call ("ghost" is no configured agent)
    settings = Settings(
        redis_url=redis_url,
        gws=GwsSettings(base_url="http://127.0.0.1:9"),
        agents=[AgentConfig(username=name, password="unused") for name in (AGENT, "bob")],
        inbound=InboundSettings(
            clients=[
                InboundClient(name="mobile-app", api_key_hashes=[_hash(KEY)], agents=["*"]),
                InboundClient(name="bobs-widget", api_key_hashes=[_hash(LIMITED_KEY)], agents=["bob"]),
            ]
        ),
    )
    app: web.Application = create_app(settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_register_then_list_then_delete(client: TestClient[Any, Any], registry: DeviceRegistry) -> None:
    token = ios_token().upper()
    body = {"agent": AGENT, "platform": "ios", "token": token,
            "filter": f"gws.api.v2.users.{AGENT}.calls.*", "sandbox": True}  # fmt: skip

    created = await client.post("/v1/mobile/devices", json=body, headers=auth())
    assert created.status == 201
    document = await created.json()
    assert document["token"] == token.lower() and document["sandbox"] is True

    listed = await client.get("/v1/mobile/devices", params={"agent": AGENT}, headers=auth())
    assert listed.status == 200
    devices = (await listed.json())["devices"]
    assert [(d["token"], d["platform"], d["filter"]) for d in devices] == [
        (token.lower(), "ios", f"gws.api.v2.users.{AGENT}.calls.*")
    ]

    deleted = await client.delete(f"/v1/mobile/devices/{token.lower()}", headers=auth())
    assert deleted.status == 204
    assert await registry.list(AGENT) == []
    again = await client.delete(f"/v1/mobile/devices/{token.lower()}", headers=auth())
    assert again.status == 404
    assert again.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/mobile/devices"),
        ("GET", "/v1/mobile/devices?agent=x"),
        ("DELETE", "/v1/mobile/devices/ab"),
    ],
)
async def test_every_route_needs_credentials(
    client: TestClient[Any, Any], registry: DeviceRegistry, method: str, path: str
) -> None:
    body = {"agent": AGENT, "platform": "android", "token": android_token()}
    for headers in ({}, auth("wrong-key")):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status == 401
        text = await response.text()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "wrong-key" not in text and KEY not in text  # a credential is never echoed
    assert await registry.list(AGENT) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agent": AGENT, "platform": "windows", "token": "ab" * 32}, "platform"),
        ({"agent": AGENT, "platform": "ios", "token": "not-hex"}, "(body)"),
        ({"agent": AGENT, "platform": "ios", "token": "ab" * 10}, "(body)"),
        ({"agent": AGENT, "platform": "android", "token": "short"}, "(body)"),
        ({"platform": "ios", "token": "ab" * 32}, "agent"),
        ({"agent": "has space", "platform": "ios", "token": "ab" * 32}, "agent"),
        ({"agent": AGENT, "platform": "ios", "token": "ab" * 32, "filter": "calls.*"}, "filter"),
        ({"agent": AGENT, "platform": "ios", "token": "ab" * 32, "filter": "gws.a,,gws.b"}, "filter"),
        ({"agent": AGENT, "platform": "ios", "token": "ab" * 32, "sandbox": "yes"}, "sandbox"),
        ({"agent": AGENT, "platform": "ios", "token": "ab" * 32, "colour": "red"}, "colour"),
    ],
)
async def test_invalid_registrations_get_422_naming_the_field(
    client: TestClient[Any, Any], registry: DeviceRegistry, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/mobile/devices", json=body, headers=auth())

    assert response.status == 422
    problem = await response.json(content_type="application/problem+json")
    assert field in [e["field"] for e in problem["errors"]]
    assert await registry.list(AGENT) == []


async def test_malformed_json_is_400(client: TestClient[Any, Any]) -> None:
    response = await client.post("/v1/mobile/devices", data=b"{nope", headers=auth())
    assert response.status == 400
    listing = await client.get("/v1/mobile/devices", headers=auth())
    assert listing.status == 422


async def test_a_client_limited_to_other_agents_gets_403_and_changes_nothing(
    client: TestClient[Any, Any], registry: DeviceRegistry
) -> None:
    token = android_token()
    await registry.register(AGENT, "android", token)
    body = {"agent": AGENT, "platform": "android", "token": android_token()}

    posted = await client.post("/v1/mobile/devices", json=body, headers=auth(LIMITED_KEY))
    listed = await client.get("/v1/mobile/devices", params={"agent": AGENT}, headers=auth(LIMITED_KEY))
    deleted = await client.delete(f"/v1/mobile/devices/{token}", headers=auth(LIMITED_KEY))
    own = await client.post("/v1/mobile/devices", json={**body, "agent": "bob"}, headers=auth(LIMITED_KEY))

    assert (posted.status, listed.status, deleted.status, own.status) == (403, 403, 403, 201)
    assert [d.token for d in await registry.list(AGENT)] == [token]


async def test_an_agent_the_receiver_does_not_know_is_422(client: TestClient[Any, Any]) -> None:
    body = {"agent": "ghost", "platform": "android", "token": android_token()}

    response = await client.post("/v1/mobile/devices", json=body, headers=auth())

    assert response.status == 422
    problem = await response.json(content_type="application/problem+json")
    assert "not configured" in problem["detail"]


async def test_a_body_over_the_limit_is_413_even_when_chunked(client: TestClient[Any, Any]) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 1024

    response = await client.post("/v1/mobile/devices", data=chunks(), headers=auth())

    assert response.status == 413
