"""The device registry is served by the receiver itself, with the receiver's authentication."""

from __future__ import annotations

from tests.integration.inbound.conftest import LIMITED_KEY

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
