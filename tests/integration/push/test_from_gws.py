"""From a real GWS CometD message through the normalizer to the APNs and FCM emulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.events import Event
from bridge.mobile.registry import DeviceRegistry, Platform
from bridge.normalize import MemoryState, normalize
from connectors.push.apns import ApnsConnector
from connectors.push.fcm import FcmConnector
from tests.integration.push.conftest import android_token, ios_token
from tests.plugins.push import ApnsEmulator, FcmEmulator

FIXTURES = Path(__file__).parents[2] / "fixtures" / "push"
AGENT = "jsmith"


def gws_event(name: str) -> Event:
    [event] = normalize((FIXTURES / name).read_bytes(), agent=AGENT, state=MemoryState())
    return event


@pytest.fixture
async def connectors(
    apns_emulator: ApnsEmulator, fcm_emulator: FcmEmulator, registry: DeviceRegistry
) -> AsyncIterator[tuple[ApnsConnector, FcmConnector]]:
    await registry.register(AGENT, Platform.IOS, ios_token())
    await registry.register(AGENT, Platform.ANDROID, android_token())
    apns = ApnsConnector(apns_emulator.destination(), registry=registry)
    fcm = FcmConnector(fcm_emulator.destination(), registry=registry)
    yield apns, fcm
    await apns.aclose()
    await fcm.aclose()


async def send_both(connectors: tuple[ApnsConnector, FcmConnector], event: Event) -> None:
    for connector in connectors:
        await connector.send(event)


async def test_ringing_call_from_gws(
    connectors: tuple[ApnsConnector, FcmConnector], apns_emulator: ApnsEmulator, fcm_emulator: FcmEmulator
) -> None:
    event = gws_event("cometd_call_StatusChange_Ringing_toast.json")
    assert event.type == "call.ringing"

    await send_both(connectors, event)

    [ios] = apns_emulator.requests
    [android] = fcm_emulator.requests
    assert ios.status == 200 and android.status == 200
    assert ios.payload["callId"] == android.body["message"]["data"]["callId"] == "0071023c62a4a02a"
    assert ios.payload["aps"]["alert"]["body"] == "From 5005 · Chris"  # ANI and the toast's first field
    assert ios.headers["apns-collapse-id"] == android.body["message"]["android"]["collapse_key"]


async def test_agent_state_from_gws(
    connectors: tuple[ApnsConnector, FcmConnector], apns_emulator: ApnsEmulator, fcm_emulator: FcmEmulator
) -> None:
    event = gws_event("cometd_device_DeviceStateChange_NotReady.json")
    assert event.type == "agent.state_changed"

    await send_both(connectors, event)

    [ios] = apns_emulator.requests
    assert ios.payload["deviceId"] == "74152ed8-858f-4a33-9e96-36213a678d30"
    assert ios.headers["apns-push-type"] == "background"
    assert fcm_emulator.requests[0].body["message"]["android"]["priority"] == "NORMAL"


async def test_email_invitation_from_gws(
    connectors: tuple[ApnsConnector, FcmConnector], apns_emulator: ApnsEmulator, fcm_emulator: FcmEmulator
) -> None:
    event = gws_event("cometd_interaction_email_invited.json")
    assert event.type == "interaction.invited"

    await send_both(connectors, event)

    [ios] = apns_emulator.requests
    assert ios.payload["interactionId"] == "0000Ka8WP8G94H9A"
    assert ios.payload["aps"]["alert"] == {
        "title": "New e-mail",
        "body": "Customer1@ci-vm106: Rendering_response_category",
    }
    assert fcm_emulator.requests[0].body["message"]["notification"]["title"] == "New e-mail"


async def test_voice_service_down_from_gws(
    connectors: tuple[ApnsConnector, FcmConnector], apns_emulator: ApnsEmulator, fcm_emulator: FcmEmulator
) -> None:
    event = gws_event("cometd_service_inactive.json")
    assert event.type == "service.state_changed"

    await send_both(connectors, event)

    [ios] = apns_emulator.requests
    assert ios.payload["aps"]["alert"]["title"] == "Voice service down"
    assert fcm_emulator.requests[0].body["message"]["data"]["state"] == "Inactive"
