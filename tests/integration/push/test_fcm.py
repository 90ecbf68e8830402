"""The FCM connector against the FCM + OAuth emulator on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import orjson
import pytest

from bridge.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError
from bridge.events import EventType
from bridge.mobile.registry import DeviceRegistry, Platform
from connectors import connector_class
from connectors.push.fcm import FcmConnector
from tests.integration.push.conftest import AGENT, Emitted, android_token, ios_token, make_event, ringing
from tests.plugins.push import CLIENT_EMAIL, PROJECT_ID, FcmEmulator, Scripted


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def make_fcm(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, emitted: Emitted
) -> AsyncIterator[Callable[..., FcmConnector]]:
    made: list[FcmConnector] = []

    def make(clock: Any = time.time, **options: Any) -> FcmConnector:
        connector = FcmConnector(
            fcm_emulator.destination(**options), registry=registry, emit=emitted, clock=clock
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


async def test_kind_fcm_is_registered(fcm_emulator: FcmEmulator, registry: DeviceRegistry) -> None:
    cls = connector_class("fcm")
    assert cls is FcmConnector and cls.kind == "fcm"
    connector = cls(fcm_emulator.destination(), registry=registry)
    assert connector.project_id == PROJECT_ID  # taken from the service account
    await connector.aclose()


async def test_ringing_call_message_has_string_data_collapse_key_ttl_and_notification(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    token = android_token()
    await registry.register(AGENT, Platform.ANDROID, token)

    await make_fcm().send(ringing())

    [request] = fcm_emulator.requests
    assert request.status == 200 and request.project == PROJECT_ID
    assert request.authorization is not None and request.authorization.startswith("Bearer ya29.emu-")
    message = request.body["message"]
    assert message["token"] == token
    assert message["data"]["callId"] == "0071023529204008"
    assert message["data"]["messageType"] == "CallStateChangeMessage"
    assert message["data"]["notificationType"] == "StatusChange"
    assert all(isinstance(v, str) for v in message["data"].values())
    assert message["android"] == {"collapse_key": "0071023529204008", "ttl": "30s", "priority": "HIGH"}
    assert message["notification"] == {"title": "Incoming call", "body": "From +15551234567"}


async def test_agent_state_is_a_normal_priority_data_message_without_notification(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())

    await make_fcm(ttl=600).send(make_event("agent.state_changed", {"device_id": "dev-7", "state": "Ready"}))

    [request] = fcm_emulator.requests
    message = request.body["message"]
    assert "notification" not in message
    assert message["android"] == {"collapse_key": "dev-7", "ttl": "600s", "priority": "NORMAL"}
    assert message["data"]["deviceId"] == "dev-7"
    assert message["data"]["messageType"] == "DeviceStateChangeMessage"


async def test_compact_mode_data_is_the_gws_format_only(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())
    event = make_event(
        "interaction.invited", {"interaction_id": "ix-1", "channel": "chat", "subject": "Hello"}
    )

    await make_fcm(mode="compact").send(event)

    message = fcm_emulator.requests[0].body["message"]
    assert message["data"] == {
        "interactionId": "ix-1",
        "messageType": "InteractionStateMessage",
        "notificationType": "Invited",
    }
    assert "notification" not in message and message["android"]["priority"] == "HIGH"


async def test_one_oauth_exchange_serves_many_pushes_and_is_renewed_before_expiry(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())
    clock = FakeClock()
    fcm_emulator.clock = clock
    connector = make_fcm(clock=clock)

    for n in range(50):
        await connector.send(ringing(call_id=f"c{n}"))
    assert fcm_emulator.token_requests == 1 and connector.tokens.fetched == 1

    clock.now += 3599 - 300 - 1  # still more than the 5-minute margin left
    await connector.send(ringing(call_id="same-token"))
    assert fcm_emulator.token_requests == 1
    clock.now += 2  # now within the margin: renewed before it expires
    await connector.send(ringing(call_id="new-token"))

    assert fcm_emulator.token_requests == 2
    assert len({r.authorization for r in fcm_emulator.requests}) == 2
    assert all(r.status == 200 for r in fcm_emulator.requests)  # never an expired token sent


async def test_the_assertion_is_a_service_account_jwt_for_the_token_uri(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    assertion = make_fcm().tokens.assertion()

    claims = jwt.decode(
        assertion,
        fcm_emulator.keys.service_account_public_key,
        algorithms=["RS256"],
        audience=fcm_emulator.token_uri,
    )
    assert claims["iss"] == CLIENT_EMAIL
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["exp"] - claims["iat"] == 3600


async def test_unregistered_token_is_pruned_and_reported(
    fcm_emulator: FcmEmulator,
    registry: DeviceRegistry,
    emitted: Emitted,
    make_fcm: Callable[..., FcmConnector],
) -> None:
    alive, dead = android_token(), android_token()
    await registry.register(AGENT, Platform.ANDROID, alive)
    await registry.register(AGENT, Platform.ANDROID, dead)
    fcm_emulator.revoked.add(dead)

    await make_fcm().send(ringing())

    assert sorted((r.body["message"]["token"], r.status) for r in fcm_emulator.requests) == sorted(
        [(alive, 200), (dead, 404)]
    )
    assert [d.token for d in await registry.list(AGENT)] == [alive]
    [event] = emitted.events
    assert event.type == EventType.MOBILE_TOKEN_INVALIDATED.value
    assert event.data["token"] == dead and event.data["reason"] == "UNREGISTERED"
    assert event.data["platform"] == "android"


async def test_invalid_argument_is_permanent_and_keeps_the_token(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, "bad token with spaces, not FCM's")

    with pytest.raises(PermanentDeliveryError, match="INVALID_ARGUMENT"):
        await make_fcm().send(ringing())

    assert len(await registry.list(AGENT)) == 1


async def test_a_wrong_project_404_is_not_taken_for_an_unregistered_token(
    fcm_emulator: FcmEmulator,
    registry: DeviceRegistry,
    emitted: Emitted,
    make_fcm: Callable[..., FcmConnector],
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())

    with pytest.raises(PermanentDeliveryError, match="NOT_FOUND"):
        await make_fcm(project_id="someone-elses-project").send(ringing())

    assert len(await registry.list(AGENT)) == 1 and emitted.events == []


@pytest.mark.parametrize(
    ("status", "code", "headers", "retry_after"),
    [
        (429, "QUOTA_EXCEEDED", {"Retry-After": "12"}, 12.0),
        (503, "UNAVAILABLE", {"Retry-After": "60"}, 60.0),
        (500, "INTERNAL", {}, None),
    ],
)
async def test_quota_and_unavailable_are_retryable_with_retry_after(
    fcm_emulator: FcmEmulator,
    registry: DeviceRegistry,
    make_fcm: Callable[..., FcmConnector],
    status: int,
    code: str,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())
    body = {"error": {"code": status, "status": "RESOURCE_EXHAUSTED" if status == 429 else code,
                      "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                   "errorCode": code}]}}  # fmt: skip
    fcm_emulator.script.append(Scripted(status, body, headers))

    with pytest.raises(RetryableDeliveryError, match=code) as caught:
        await make_fcm().send(ringing())

    assert caught.value.retry_after == retry_after


async def test_a_rejected_access_token_is_dropped_and_fetched_again(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())
    connector = make_fcm()
    await connector.send(ringing(call_id="a"))
    fcm_emulator.access_tokens.clear()  # the emulator forgets it (revoked, or expired early)

    with pytest.raises(RetryableDeliveryError, match="HTTP 401"):
        await connector.send(ringing(call_id="b"))
    await connector.send(ringing(call_id="b"))

    assert [r.status for r in fcm_emulator.requests] == [200, 401, 200]
    assert fcm_emulator.token_requests == 2


async def test_an_unreachable_token_endpoint_is_retryable(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())

    with pytest.raises(RetryableDeliveryError, match="token endpoint refused the service account: HTTP 404"):
        await make_fcm(token_uri=f"{fcm_emulator.url}/no-such-endpoint").send(ringing())

    assert fcm_emulator.requests == []


async def test_payload_over_4kb_is_refused_before_anything_is_sent(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())

    with pytest.raises(PermanentDeliveryError, match="over the 4096-byte limit"):
        await make_fcm().send(ringing(call_id="7" * 5000))

    assert fcm_emulator.requests == [] and fcm_emulator.token_requests == 0


async def test_ios_devices_are_not_sent_through_fcm(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, make_fcm: Callable[..., FcmConnector]
) -> None:
    await registry.register(AGENT, Platform.IOS, ios_token())

    await make_fcm().send(ringing())

    assert fcm_emulator.requests == [] and fcm_emulator.token_requests == 0


async def test_a_service_account_that_is_not_json_is_a_config_error(
    fcm_emulator: FcmEmulator, registry: DeviceRegistry, tmp_path: Any
) -> None:
    broken = tmp_path / "sa.json"
    broken.write_text('{"client_email": "x@y"}')
    with pytest.raises(ConfigError, match="has no private_key"):
        FcmConnector(fcm_emulator.destination(service_account=f"file:{broken}"), registry=registry)
    with pytest.raises(ConfigError, match=r"environment variable \S+ is not set"):
        FcmConnector(
            fcm_emulator.destination(service_account="env:GWSB_TEST_NO_SUCH_VAR"),
            registry=registry,
            environ={},
        )


async def test_a_revoked_service_account_key_disables_the_destination_instead_of_retrying(
    fcm_emulator: FcmEmulator,
    registry: DeviceRegistry,
    make_fcm: Callable[..., FcmConnector],
    tmp_path: Any,
) -> None:
    await registry.register(AGENT, Platform.ANDROID, android_token())
    account = orjson.loads(fcm_emulator.keys.service_account_path.read_bytes())
    revoked = tmp_path / "revoked.json"
    revoked.write_bytes(orjson.dumps({**account, "private_key_id": "revoked-key-id"}))

    with pytest.raises(PermanentDeliveryError, match="HTTP 400 invalid_grant") as refused:
        await make_fcm(service_account=f"file:{revoked}").send(ringing())

    assert refused.value.disable_destination  # parked until an operator fixes the key and enables it
    assert "destinations enable" in str(refused.value)
    assert fcm_emulator.token_requests == 1 and fcm_emulator.requests == []
