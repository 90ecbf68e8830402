"""The APNs connector against the HTTP/2 APNs emulator on loopback."""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import jwt
import orjson
import pytest
from redis.asyncio import Redis

from bridge.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError
from bridge.events import EventType
from bridge.mobile.registry import DeviceRegistry, Platform
from connectors import connector_class
from connectors.push.apns import ApnsConnector
from connectors.push.tokens import ApnsTokenSigner
from tests.integration.push.conftest import AGENT, Emitted, android_token, ios_token, make_event, ringing
from tests.plugins.contract import contract_problems
from tests.plugins.ports import free_port
from tests.plugins.push import KEY_ID, TEAM_ID, TOPIC, ApnsEmulator, Scripted


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def make_apns(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, emitted: Emitted
) -> AsyncIterator[Callable[..., ApnsConnector]]:
    made: list[ApnsConnector] = []

    def make(emulator: ApnsEmulator | None = None, clock: Any = time.time, **options: Any) -> ApnsConnector:
        config = (emulator or apns_emulator).destination(**options)
        connector = ApnsConnector(config, registry=registry, emit=emitted, clock=clock)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


async def test_kind_apns_is_registered_and_builds_from_destination_config(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry
) -> None:
    cls = connector_class("apns")
    assert cls is ApnsConnector and cls.kind == "apns"
    connector = cls(apns_emulator.destination(), registry=registry)
    await connector.aclose()


async def test_ringing_call_is_an_alert_over_http2_with_a_verified_jwt(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    token = ios_token()
    await registry.register(AGENT, Platform.IOS, token)
    before = int(time.time())

    await make_apns().send(ringing(user_data={"Subject": "Billing dispute"}))

    [request] = apns_emulator.requests
    assert request.status == 200 and request.alpn == "h2"
    assert request.path == f"/3/device/{token}"
    h = request.headers
    assert h["apns-topic"] == TOPIC
    assert h["apns-push-type"] == "alert" and h["apns-priority"] == "10"
    assert h["apns-collapse-id"] == "0071023529204008"
    assert before + 29 <= int(h["apns-expiration"]) <= int(time.time()) + 30  # a short-lived call alert
    claims = jwt.decode(h["authorization"][7:], apns_emulator.keys.apns_public_key, algorithms=["ES256"])
    assert claims["iss"] == TEAM_ID and jwt.get_unverified_header(h["authorization"][7:])["kid"] == KEY_ID
    payload = request.payload
    assert payload["callId"] == "0071023529204008"
    assert payload["messageType"] == "CallStateChangeMessage"
    assert payload["notificationType"] == "StatusChange"
    assert payload["eventType"] == "call.ringing"
    alert = {"title": "Incoming call", "body": "From +15551234567 · Billing dispute"}
    assert payload["aps"]["alert"] == alert


async def test_interaction_invited_alert_names_sender_and_subject(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    event = make_event(
        "interaction.invited",
        {"interaction_id": "00001a5C7GAW0024", "channel": "email", "from_address": "ann@example.com",
         "subject": "Refund for order 42"},
    )  # fmt: skip

    await make_apns(ttl=900).send(event)

    [request] = apns_emulator.requests
    assert request.status == 200
    assert request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-collapse-id"] == "00001a5C7GAW0024"
    assert int(request.headers["apns-expiration"]) >= int(time.time()) + 890
    alert = {"title": "New e-mail", "body": "ann@example.com: Refund for order 42"}
    assert request.payload["aps"]["alert"] == alert
    assert request.payload["interactionId"] == "00001a5C7GAW0024"
    assert request.payload["messageType"] == "InteractionStateMessage"
    assert request.payload["notificationType"] == "Invited"


async def test_agent_state_is_a_silent_background_push_with_the_device_id(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    device_id = "7ac00e37-e19c-4a42-b091-b0d440f0471a"
    event = make_event("agent.state_changed", {"device_id": device_id, "state": "NotReady"})

    await make_apns().send(event)

    [request] = apns_emulator.requests
    assert request.status == 200
    assert request.headers["apns-push-type"] == "background" and request.headers["apns-priority"] == "5"
    assert request.headers["apns-collapse-id"] == device_id
    assert request.payload["aps"] == {"content-available": 1}
    assert request.payload["deviceId"] == device_id
    assert request.payload["messageType"] == "DeviceStateChangeMessage"


async def test_service_down_alerts_and_service_up_is_silent(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    connector = make_apns()
    down = {"service_type": "Voice", "state": "Inactive", "available": False}
    await connector.send(make_event("service.state_changed", down))
    await connector.send(make_event("service.state_changed", {**down, "state": "Active", "available": True}))

    first, second = apns_emulator.requests
    assert first.headers["apns-push-type"] == "alert"
    assert first.payload["aps"]["alert"] == {"title": "Voice service down", "body": "Voice is Inactive"}
    assert first.payload["serviceType"] == "Voice" and first.payload["state"] == "Inactive"
    assert second.headers["apns-push-type"] == "background" and second.payload["state"] == "Active"


async def test_compact_mode_sends_exactly_the_gws_fields_within_256_bytes(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())

    await make_apns(mode="compact").send(ringing())

    [request] = apns_emulator.requests
    assert request.status == 200 and len(request.body) <= 256
    assert request.payload == {
        "aps": {"content-available": 1},
        "callId": "0071023529204008",
        "messageType": "CallStateChangeMessage",
        "notificationType": "StatusChange",
    }
    assert request.headers["apns-push-type"] == "background"


async def test_each_device_gets_only_what_its_filter_lets_through(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    everything, calls, devices = ios_token(), ios_token(), ios_token()
    await registry.register(AGENT, Platform.IOS, everything)
    await registry.register(AGENT, Platform.IOS, calls, filter=f"gws.api.v2.users.{AGENT}.calls.*")
    await registry.register(AGENT, Platform.IOS, devices, filter=f"gws.api.v2.users.{AGENT}.devices.*")
    await registry.register("someone.else", Platform.IOS, ios_token())
    await registry.register(AGENT, Platform.ANDROID, android_token())  # not for APNs
    connector = make_apns()

    await connector.send(ringing())
    got_call = {r.token for r in apns_emulator.requests}
    apns_emulator.requests.clear()
    await connector.send(make_event("agent.dnd_changed", {"device_id": "dev-1", "dnd": True}))
    got_device = {r.token for r in apns_emulator.requests}

    assert got_call == {everything, calls}
    assert got_device == {everything, devices}


async def test_sandbox_devices_go_to_the_sandbox_url(
    apns_emulator: ApnsEmulator,
    apns_emulator_factory: Callable[..., Awaitable[ApnsEmulator]],
    registry: DeviceRegistry,
    make_apns: Callable[..., ApnsConnector],
) -> None:
    sandbox = await apns_emulator_factory()
    production_token, sandbox_token = ios_token(), ios_token()
    await registry.register(AGENT, Platform.IOS, production_token)
    await registry.register(AGENT, Platform.IOS, sandbox_token, sandbox=True)

    await make_apns(sandbox_url=sandbox.url).send(ringing())

    assert [r.token for r in apns_emulator.requests] == [production_token]
    assert [r.token for r in sandbox.requests] == [sandbox_token]


async def test_unregistered_token_is_pruned_reported_and_others_still_delivered(
    apns_emulator: ApnsEmulator,
    registry: DeviceRegistry,
    emitted: Emitted,
    make_apns: Callable[..., ApnsConnector],
) -> None:
    alive, dead = ios_token(), ios_token()
    await registry.register(AGENT, Platform.IOS, alive)
    await registry.register(AGENT, Platform.IOS, dead)
    apns_emulator.revoked.add(dead)
    event = ringing()

    await make_apns().send(event)  # no exception: the live device got it

    assert {(r.token, r.status) for r in apns_emulator.requests} == {(alive, 200), (dead, 410)}
    assert [d.token for d in await registry.list(AGENT)] == [alive]
    [invalidated] = emitted.events
    assert invalidated.type == EventType.MOBILE_TOKEN_INVALIDATED.value
    assert contract_problems(orjson.loads(invalidated.to_json())) == []
    assert invalidated.partitionkey == AGENT
    assert invalidated.data["token"] == dead and invalidated.data["platform"] == "ios"
    assert invalidated.data["reason"] == "Unregistered" and invalidated.data["event_id"] == event.id


async def test_bad_device_token_is_permanent_but_the_other_devices_get_the_push(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    good, malformed = ios_token(), "ab" * 40  # 80 hex digits: accepted by us, not by (this) APNs
    await registry.register(AGENT, Platform.IOS, good)
    await registry.register(AGENT, Platform.IOS, malformed)

    with pytest.raises(
        PermanentDeliveryError, match=r"1 of 2 pushes refused: tok:[0-9a-f]{12} BadDeviceToken"
    ):
        await make_apns().send(ringing())

    assert {(r.token, r.status) for r in apns_emulator.requests} == {(good, 200), (malformed, 400)}
    assert len(await registry.list(AGENT)) == 2  # BadDeviceToken is not proof the device is gone


async def test_one_jwt_serves_a_hundred_pushes_and_is_renewed_after_the_configured_age(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    clock = FakeClock()
    connector = make_apns(clock=clock, token_refresh=1800)

    for n in range(100):
        await connector.send(ringing(call_id=f"call-{n}"))
    assert len(apns_emulator.requests) == 100 and all(r.status == 200 for r in apns_emulator.requests)
    assert connector.signer.generated == 1 and len(apns_emulator.provider_tokens) == 1

    clock.now += 1799
    await connector.send(ringing(call_id="call-still-same-token"))
    assert connector.signer.generated == 1
    clock.now += 1
    await connector.send(ringing(call_id="call-new-token"))

    assert connector.signer.generated == 2 and len(apns_emulator.provider_tokens) == 2
    assert all(r.status == 200 for r in apns_emulator.requests)  # never TooManyProviderTokenUpdates
    assert len({r.headers["authorization"] for r in apns_emulator.requests}) == 2


async def test_a_token_per_request_would_be_refused_by_apple(apns_emulator: ApnsEmulator) -> None:
    # The emulator enforces Apple's 20-minute renewal rule, so the reuse test above can fail.
    key = apns_emulator.keys.apns_key_path.read_text()
    clock = FakeClock()
    signer = ApnsTokenSigner(key, key_id=KEY_ID, team_id=TEAM_ID, refresh_after=1200, clock=clock)
    trust = ssl.create_default_context(cafile=str(apns_emulator.keys.tls_cert_path))
    async with httpx.AsyncClient(http1=False, http2=True, verify=trust) as client:
        statuses = []
        for _ in range(2):
            response = await client.post(
                f"{apns_emulator.url}/3/device/{ios_token()}",
                content=b'{"aps":{"content-available":1}}',
                headers={"authorization": f"bearer {signer.token()}", "apns-topic": TOPIC,
                         "apns-push-type": "background", "apns-priority": "5"},
            )  # fmt: skip
            reason = response.json().get("reason") if response.content else None
            statuses.append((response.status_code, reason))
            clock.now += 60
            signer.invalidate()
    assert statuses == [(200, None), (429, "TooManyProviderTokenUpdates")]


async def test_expired_provider_token_is_dropped_and_the_delivery_retried(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    clock = FakeClock()
    clock.now -= 3700  # the connector's clock is an hour behind: its token is already too old for Apple
    connector = make_apns(clock=clock)

    with pytest.raises(RetryableDeliveryError, match="ExpiredProviderToken"):
        await connector.send(ringing())
    clock.now += 3700
    await connector.send(ringing())

    assert [r.status for r in apns_emulator.requests] == [403, 200]
    assert connector.signer.generated == 2


@pytest.mark.parametrize(
    ("status", "reason", "headers", "retry_after"),
    [
        (429, "TooManyRequests", {"retry-after": "7"}, 7.0),
        (503, "ServiceUnavailable", {"retry-after": "30"}, 30.0),
        (500, "InternalServerError", {}, None),
    ],
)
async def test_throttling_and_server_errors_are_retryable_with_retry_after(
    apns_emulator: ApnsEmulator,
    registry: DeviceRegistry,
    make_apns: Callable[..., ApnsConnector],
    status: int,
    reason: str,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    apns_emulator.script.append(Scripted(status, {"reason": reason}, headers))

    with pytest.raises(RetryableDeliveryError, match=reason) as caught:
        await make_apns().send(ringing())

    assert caught.value.retry_after == retry_after


async def test_a_retried_delivery_skips_devices_that_already_got_it(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    first, second = ios_token(), ios_token()
    await registry.register(AGENT, Platform.IOS, first)
    await registry.register(AGENT, Platform.IOS, second)
    connector = make_apns(concurrency=1)  # one at a time: the script hits the second push
    apns_emulator.script.extend([Scripted(200), Scripted(503, {"reason": "ServiceUnavailable"})])
    event = ringing()

    with pytest.raises(RetryableDeliveryError):
        await connector.send(event)
    failed = next(r.token for r in apns_emulator.requests if r.status == 503)
    apns_emulator.requests.clear()
    await connector.send(event)  # the delivery layer's retry

    assert [r.token for r in apns_emulator.requests] == [failed]


async def test_payload_over_4kb_is_refused_before_anything_is_sent(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())

    with pytest.raises(
        PermanentDeliveryError, match=r"APNs payload for call\.ringing is \d+ bytes, over the 4096"
    ):
        await make_apns().send(ringing(call_id="9" * 5000))

    assert apns_emulator.requests == []


async def test_events_that_gws_never_pushes_send_nothing(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, make_apns: Callable[..., ApnsConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())
    connector = make_apns()

    await connector.send(make_event("call.error", {"call_id": "c1", "error_message": "x"}))
    await connector.send(make_event("device.error", {"device_id": "d1"}))
    await connector.send(make_event("delivery.dead_lettered", {}))

    assert apns_emulator.requests == []


async def test_missing_registry_or_bad_options_are_config_errors(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry, tmp_path: Any
) -> None:
    with pytest.raises(ConfigError, match="needs the device registry"):
        ApnsConnector(apns_emulator.destination())
    with pytest.raises(ConfigError, match=r"options\.token_refresh"):
        ApnsConnector(apns_emulator.destination(token_refresh=60), registry=registry)
    with pytest.raises(ConfigError, match="must be a reference"):
        ApnsConnector(apns_emulator.destination(key="-----BEGIN PRIVATE KEY-----"), registry=registry)
    not_a_key = tmp_path / "key.p8"
    not_a_key.write_text("hello")
    with pytest.raises(ConfigError, match="not a PEM private key"):
        ApnsConnector(apns_emulator.destination(key=f"file:{not_a_key}"), registry=registry)


async def test_a_failing_emit_hook_keeps_the_token_and_makes_the_delivery_retryable(
    apns_emulator: ApnsEmulator, registry: DeviceRegistry
) -> None:
    dead = ios_token()
    await registry.register(AGENT, Platform.IOS, dead)
    apns_emulator.revoked.add(dead)

    async def broken_emit(event: Any) -> None:
        raise ConnectionError("queue is down")

    connector = ApnsConnector(apns_emulator.destination(), registry=registry, emit=broken_emit)
    try:
        with pytest.raises(RetryableDeliveryError, match=r"could not emit mobile\.token_invalidated"):
            await connector.send(ringing())
    finally:
        await connector.aclose()

    assert [d.token for d in await registry.list(AGENT)] == [dead]  # reported next time, not lost


async def test_an_unreachable_registry_is_retryable(apns_emulator: ApnsEmulator) -> None:
    dead_redis = Redis(port=free_port(), socket_connect_timeout=0.5)
    connector = ApnsConnector(apns_emulator.destination(), registry=DeviceRegistry(dead_redis))
    try:
        with pytest.raises(RetryableDeliveryError, match="device registry: ConnectionError"):
            await connector.send(ringing())
    finally:
        await connector.aclose()
        await dead_redis.aclose()
    assert apns_emulator.requests == []
