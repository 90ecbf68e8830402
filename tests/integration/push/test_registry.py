"""The device registry on a real (private) Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from bridge.mobile.registry import DeviceRegistry, Platform
from tests.integration.push.conftest import AGENT, android_token, ios_token, make_event, ringing


async def test_register_list_and_remove(registry: DeviceRegistry) -> None:
    phone, tablet = ios_token(), android_token()
    await registry.register(AGENT, Platform.IOS, phone, filter="gws.api.v2.users.*.calls.*", sandbox=True)
    await registry.register(AGENT, "android", tablet)

    devices = await registry.list(AGENT)
    assert [(d.token, d.platform, d.filter, d.sandbox) for d in devices] == [
        (phone, Platform.IOS, "gws.api.v2.users.*.calls.*", True),
        (tablet, Platform.ANDROID, None, False),
    ]
    removed = await registry.remove(phone)
    assert removed is not None and removed.token == phone
    assert [d.token for d in await registry.list(AGENT)] == [tablet]
    assert await registry.remove(phone) is None


async def test_registering_a_token_again_replaces_it_and_moves_it_between_agents(
    registry: DeviceRegistry,
) -> None:
    token = ios_token()
    await registry.register("alice", Platform.IOS, token, filter="gws.api.v2.users.alice.*")
    await registry.register("bob", Platform.IOS, token)

    assert await registry.list("alice") == []
    [device] = await registry.list("bob")
    assert device.agent == "bob" and device.filter is None


async def test_devices_for_honours_each_filter_and_the_platform(registry: DeviceRegistry) -> None:
    all_of_it, calls_only, devices_only, other = ios_token(), ios_token(), ios_token(), android_token()
    await registry.register(AGENT, Platform.IOS, all_of_it, filter=f"gws.api.v2.users.{AGENT}.*")
    await registry.register(AGENT, Platform.IOS, calls_only, filter=f"gws.api.v2.users.{AGENT}.calls.*")
    await registry.register(AGENT, Platform.IOS, devices_only, filter=f"gws.api.v2.users.{AGENT}.devices.*")
    await registry.register(AGENT, Platform.ANDROID, other)

    call = {d.token for d in await registry.devices_for(ringing())}
    state = make_event("agent.state_changed", {"device_id": "d1"})
    device = {d.token for d in await registry.devices_for(state, [Platform.IOS])}
    error = await registry.devices_for(make_event("call.error", {"call_id": "c1"}))

    assert call == {all_of_it, calls_only, other}
    assert device == {all_of_it, devices_only}
    assert error == []


async def test_a_filter_for_another_user_lets_nothing_through(registry: DeviceRegistry) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token(), filter="gws.api.v2.users.someone.*")

    assert await registry.devices_for(ringing()) == []


async def test_sent_marks_expire(registry: DeviceRegistry, redis_client: Redis) -> None:
    await registry.mark_sent("apns", "event-1", ["t1", "t2"], ttl=60)
    await registry.mark_sent("apns", "event-1", [], ttl=60)

    assert await registry.already_sent("apns", "event-1") == {"t1", "t2"}
    assert await registry.already_sent("fcm", "event-1") == set()
    assert 0 < await redis_client.ttl("gwsb:mobile:sent:apns:event-1") <= 60


async def test_a_half_written_device_hash_is_ignored(registry: DeviceRegistry, redis_client: Redis) -> None:
    await redis_client.sadd(f"gwsb:mobile:agent:{AGENT}", "ghost")
    await redis_client.hset("gwsb:mobile:device:ghost", mapping={"agent": AGENT})

    assert await registry.list(AGENT) == []
    assert await registry.get("ghost") is None


async def test_the_gws_placeholder_id_stands_for_the_devices_agent(registry: DeviceRegistry) -> None:
    token = ios_token()
    await registry.register(AGENT, Platform.IOS, token, filter="gws.api.v2.users.<id>.calls.*")

    assert [d.token for d in await registry.devices_for(ringing())] == [token]
    assert await registry.devices_for(make_event("agent.state_changed", {"device_id": "d1"})) == []
