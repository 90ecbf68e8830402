"""The GWS push format and its APNs / FCM shapes (pure)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from bridge.errors import PermanentDeliveryError
from bridge.events import Event
from connectors.push.payload import PushContent, PushMode, gws_fields, push_content
from connectors.push.wire import APNS_MAX_BYTES, COMPACT_MAX_BYTES, apns_body, apns_headers, fcm_message

FIXTURES = Path(__file__).parents[2] / "fixtures" / "push"


def event(event_type: str, **data: Any) -> Event:
    return Event(
        id=secrets.token_hex(8),
        source="gws-bridge/agent1",
        type=event_type,
        subject="x",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        data={"agent": "agent1", **data},
        sequence=1,
        partitionkey="agent1",
    )


def content(e: Event, mode: PushMode = PushMode.DEFAULT) -> PushContent:
    result = push_content(e, mode=mode, ttl=3600, call_alert_ttl=30)
    assert result is not None
    return result


def test_call_fields_are_the_seed_sample_exactly() -> None:
    sample = orjson.loads((FIXTURES / "mobile_push_call.json").read_bytes())
    e = event("call.established", call_id=sample["callId"], notification_type="StatusChange")

    assert gws_fields(e) == sample


def test_device_fields_are_the_seed_sample_exactly() -> None:
    sample = orjson.loads((FIXTURES / "mobile_push_device.json").read_bytes())
    e = event("agent.state_changed", device_id=sample["deviceId"], state="Ready")

    assert gws_fields(e) == sample


@pytest.mark.parametrize(
    ("event_type", "notification"),
    [
        ("call.ringing", "StatusChange"),
        ("call.participants_changed", "ParticipantsUpdated"),
        ("call.data_changed", "AttachedDataChanged"),
        ("call.dtmf_sent", "DtmfSent"),
        ("call.monitoring_changed", "MonitoredUserMutedStateChange"),
        ("call.recording_changed", "CallRecordingStateChange"),
    ],
)
def test_call_notification_type_follows_the_event_when_gws_gave_none(
    event_type: str, notification: str
) -> None:
    fields = gws_fields(event(event_type, call_id="c1"))
    assert fields is not None and fields["notificationType"] == notification


@pytest.mark.parametrize(
    "event_type", ["call.error", "device.error", "gws.unrecognized", "user.password_changed"]
)
def test_errors_and_non_gws_events_are_not_pushed(event_type: str) -> None:
    e = event(event_type, call_id="c1", device_id="d1")
    assert gws_fields(e) is None
    assert push_content(e, mode=PushMode.DEFAULT, ttl=60, call_alert_ttl=30) is None


def test_event_without_its_resource_id_is_not_pushed() -> None:
    assert gws_fields(event("call.ringing")) is None
    assert gws_fields(event("interaction.invited")) is None


def test_compact_ringing_call_fits_in_256_bytes_and_is_silent() -> None:
    c = content(event("call.ringing", call_id="0071023529204008", ani="+15551234567"), PushMode.COMPACT)
    body = apns_body(c)

    assert len(body) <= COMPACT_MAX_BYTES
    assert orjson.loads(body) == {
        "aps": {"content-available": 1},
        "callId": "0071023529204008",
        "messageType": "CallStateChangeMessage",
        "notificationType": "StatusChange",
    }
    headers = apns_headers(c, topic="com.example", now=1000.0)
    assert headers["apns-push-type"] == "background" and headers["apns-priority"] == "5"
    assert headers["apns-expiration"] == "1030"


def test_compact_payload_over_the_gws_budget_is_refused() -> None:
    c = content(event("call.ringing", call_id="x" * 300), PushMode.COMPACT)
    with pytest.raises(PermanentDeliveryError, match=r"compact APNs payload .* over the 256-byte limit"):
        apns_body(c)
    with pytest.raises(PermanentDeliveryError, match="compact FCM data"):
        fcm_message(c, "token")


def test_default_payload_over_4kb_is_refused_with_its_size() -> None:
    c = content(event("interaction.updated", interaction_id="i" * 5000))
    with pytest.raises(PermanentDeliveryError, match=rf"is \d+ bytes, over the {APNS_MAX_BYTES}-byte limit"):
        apns_body(c)
    with pytest.raises(PermanentDeliveryError, match="FCM payload"):
        fcm_message(c, "token")


def test_long_alert_text_is_shortened_so_a_long_subject_never_breaks_the_limit() -> None:
    c = content(event("interaction.invited", interaction_id="i1", channel="email", subject="word " * 2000))
    assert c.alert is not None and len(c.alert.body) <= 178 and c.alert.body.endswith("…")
    assert len(apns_body(c)) < APNS_MAX_BYTES


def test_ringing_alert_names_the_caller_from_participants_when_there_is_no_ani() -> None:
    participants = [{"number": "5001", "e164": "+15005550001", "formatted": "+1 500-555-0001"}]
    c = content(event("call.ringing", call_id="c1", participants=participants, toast={"Subject": "VIP"}))
    assert c.alert is not None and c.alert.body == "From +1 500-555-0001 · VIP"


def test_a_long_collapse_id_is_hashed_to_fit_apns() -> None:
    c = content(event("call.ringing", call_id="c" * 100))
    assert len(c.collapse_id) == 32
    assert c.collapse_id == content(event("call.ringing", call_id="c" * 100)).collapse_id


def test_fcm_data_values_are_strings_even_for_numeric_ids() -> None:
    c = content(event("call.ringing", call_id=12345, ani=5551234))
    message = fcm_message(c, "tok")["message"]
    assert message["data"]["callId"] == "12345"
    assert all(isinstance(v, str) for v in message["data"].values())
    assert message["android"]["ttl"] == "30s" and message["android"]["priority"] == "HIGH"


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        ("workbin.interaction_added", {"interaction_id": "i1", "workbin": "wb1"},
         {"interactionId": "i1", "workbinId": "wb1", "messageType": "workbinNotificationResource",
          "notificationType": "PlacedIn"}),
        ("channel.state_changed", {"channel": "email"},
         {"channel": "email", "messageType": "ChannelStateChangeMessage"}),
        ("chat.message", {"interaction_id": "i2"},
         {"interactionId": "i2", "messageType": "InteractionStateMessage", "notificationType": "NewMessage"}),
        ("service.state_changed", {"service_type": "Voice", "state": "Active"},
         {"serviceType": "Voice", "messageType": "ServiceStateChangeMessage", "state": "Active"}),
    ],
)  # fmt: skip
def test_other_families_follow_the_same_flat_shape(
    event_type: str, data: dict[str, Any], expected: dict[str, str]
) -> None:
    assert gws_fields(event(event_type, **data)) == expected
