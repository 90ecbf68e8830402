"""The device registry is served by the receiver itself, with the receiver's authentication."""

from __future__ import annotations

from redis.asyncio import Redis

from bridge.mobile.registry import DeviceRegistry
from tests.integration.inbound.conftest import LIMITED_KEY, ReceiverHandle
from tests.plugins.simulator import SimulatorHandle

IOS_TOKEN = "ab" * 32


async def test_registry_routes_are_mounted_with_receiver_auth(receiver_factory, simulator) -> None:
    receiver = await receiver_factory()
    device = {"agent": "agent0001", "platform": "ios", "token": IOS_TOKEN}

    status, body, _ = await receiver.call("POST", "/v1/mobile/devices", device, key=None)
    assert status == 401, body

    status, body, _ = await receiver.call("POST", "/v1/mobile/devices", device, key=LIMITED_KEY)
    assert status == 403, body  # "limited" may act only for the sales group (agent0002)

    status, body, _ = await receiver.call("POST", "/v1/mobile/devices", device)
    assert status == 201, body
    status, body, _ = await receiver.call("GET", "/v1/mobile/devices?agent=agent0001")
    assert status == 200
    assert [d["token"] for d in body["devices"]] == [IOS_TOKEN]

    status, _, _ = await receiver.call("DELETE", f"/v1/mobile/devices/{IOS_TOKEN}")
    assert status == 204
    status, body, _ = await receiver.call("GET", "/v1/mobile/devices?agent=agent0001")
    assert body["devices"] == []
    assert await simulator.log() == []  # registry requests never reach GWS


def _requests(receiver: ReceiverHandle, route: str, status: int) -> float:
    value = receiver.receiver.metrics.registry.get_sample_value(
        "gwsb_inbound_requests_total", {"route": route, "status": str(status)}
    )
    return value or 0.0


async def test_registry_requests_are_counted_under_their_route_names(receiver: ReceiverHandle) -> None:
    device = {"agent": "agent0001", "platform": "ios", "token": IOS_TOKEN}

    assert (await receiver.call("POST", "/v1/mobile/devices", device))[0] == 201
    assert (await receiver.call("GET", "/v1/mobile/devices?agent=agent0001"))[0] == 200
    assert (await receiver.call("DELETE", f"/v1/mobile/devices/{IOS_TOKEN}"))[0] == 204
    assert (await receiver.call("DELETE", f"/v1/mobile/devices/{IOS_TOKEN}"))[0] == 404

    assert _requests(receiver, "/v1/mobile/devices", 201) == 1
    assert _requests(receiver, "/v1/mobile/devices", 200) == 1
    assert _requests(receiver, "/v1/mobile/devices/{token}", 204) == 1
    assert _requests(receiver, "/v1/mobile/devices/{token}", 404) == 1
    status, exposition, _ = await receiver.call("GET", "/metrics", key=None)
    assert status == 200
    assert b'route="/v1/mobile/devices/{token}"' in exposition
    assert IOS_TOKEN.encode() not in exposition  # the token is never a label


async def test_a_refused_registration_reaches_neither_the_registry_nor_gws(
    receiver: ReceiverHandle, simulator: SimulatorHandle, redis_url: str
) -> None:
    device = {"agent": "agent0001", "platform": "ios", "token": IOS_TOKEN}
    refused = [
        (401, device, {"key": None}),
        (403, device, {"key": LIMITED_KEY}),  # "limited" may act only for agent0002
        (422, dict(device, agent="ghost"), {}),  # no such agent configured
        (422, dict(device, token="not-hex"), {}),
        (415, device, {"headers": {"Content-Type": "application/json; charset=utf-16"}}),
        (413, dict(device, filter="x" * 20_000), {}),  # over the registry's 16 KiB
    ]
    await simulator.log(clear=True)

    for expected, document, options in refused:
        status, body, headers = await receiver.call("POST", "/v1/mobile/devices", document, **options)
        assert status == expected, body
        assert headers["Content-Type"].startswith("application/problem+json")
        assert body["status"] == expected and body["instance"] == "/v1/mobile/devices"

    client = Redis.from_url(redis_url)
    try:
        registry = DeviceRegistry(client)
        assert await registry.list("agent0001") == [] and await registry.list("ghost") == []
        assert await registry.get(IOS_TOKEN) is None
    finally:
        await client.aclose()
    assert await simulator.log() == []
    for expected in (401, 403, 413, 415, 422):
        assert _requests(receiver, "/v1/mobile/devices", expected) >= 1, expected
