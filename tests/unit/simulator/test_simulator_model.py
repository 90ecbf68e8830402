"""Pure parts of the simulator: users file, released-call expiry, envelopes, capabilities per state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.defaults import agent_state_by_operation, generate_users, load_users
from simulator.envelopes import Envelope, OperationError, failure_body, success_body
from simulator.messages import MessageBuilder
from simulator.model import CallState, SimState
from simulator.voice import VoiceEngine


def engine() -> tuple[VoiceEngine, list[tuple[str, dict[str, Any], str | None]]]:
    state = SimState()
    for user in generate_users(3):
        state.add_user(user)
    sent: list[tuple[str, dict[str, Any], str | None]] = []

    def publish(channel: str, data: dict[str, Any], user: str | None) -> int:
        sent.append((channel, data, user))
        return 1

    builder = MessageBuilder("http://sim:8090", {"toast-filter": [], "case-filter": []})
    return VoiceEngine(state, builder, publish, released_retention=10.0, remote_answer_delay=None), sent


def test_generated_agents_have_dns_devices_and_channels():
    users = generate_users(3)
    assert [(u.user_name, u.password, u.device.phone_number) for u in users] == [
        ("agent0001", "password", "5001"),
        ("agent0002", "password", "5002"),
        ("agent0003", "password", "5003"),
    ]
    assert sorted(users[0].channels) == ["chat", "email"]
    assert users[0].device.user_state.state == "NotReady"
    assert generate_users(1)[0].device.id == users[0].device.id  # deterministic ids


def test_users_file_loads_and_rejects_bad_entries(tmp_path: Path):
    good = tmp_path / "good.toml"
    good.write_text('[[users]]\nuserName = "sup"\npassword = "x"\ndn = "7000"\nroles = ["ROLE_SUPERVISOR"]\n')
    [user] = load_users(good)
    assert (user.user_name, user.device.phone_number, user.roles) == ("sup", "7000", ["ROLE_SUPERVISOR"])
    missing = tmp_path / "missing.toml"
    missing.write_text('[[users]]\nuserName = "a"\npassword = "x"\n')
    with pytest.raises(ValueError, match="'dn'"):
        load_users(missing)
    duplicate = tmp_path / "dup.toml"
    duplicate.write_text('[[users]]\nuserName = "a"\npassword = "x"\ndn = "1"\n' * 2)
    with pytest.raises(ValueError, match="repeats"):
        load_users(duplicate)


def test_offline_is_reported_as_logged_out():
    offline = agent_state_by_operation("Offline")
    assert offline is not None and offline.state == "LoggedOut"
    assert agent_state_by_operation("Nap") is None


def test_envelopes_per_family():
    error = OperationError(6, "not found")
    assert success_body(Envelope.S0) == {"statusCode": 0}
    assert success_body(Envelope.OK, replyInteractionId="x") == {"status": "ok", "replyInteractionId": "x"}
    assert success_body(Envelope.N0, uri="u") == {"status": 0, "uri": "u"}
    assert failure_body(Envelope.OK, error) == {"status": "error", "errorDescription": "not found"}
    assert failure_body(Envelope.N0, error) == {"statusCode": 6, "statusMessage": "not found"}
    assert error.http_status == 404
    assert OperationError(4, "down", http_status=503).http_status == 503


def test_capabilities_follow_the_state():
    voice, sent = engine()
    user = voice.state.users["agent0001"]
    call = voice.ring(user, "5550000")
    assert sorted(voice.capabilities(call)) == sorted(
        ["AttachUserData", "UpdateUserData", "DeleteUserData", "DeleteUserDataPair", "Answer"])  # fmt: skip
    user.device.telephony_network = "Public"
    assert "Answer" not in voice.capabilities(call)
    voice.establish(call)
    assert {"Hangup", "Hold", "SendDtmf", "SingleStepTransfer"} <= set(voice.capabilities(call))
    assert "Retrieve" not in voice.capabilities(call)
    voice.set_state(call, CallState.HELD)
    assert "Retrieve" in voice.capabilities(call) and "Hold" not in voice.capabilities(call)
    voice.release(call)
    assert voice.capabilities(call) == []
    assert [data["call"]["state"] for _, data, _ in sent] == ["Ringing", "Established", "Held", "Released"]
    assert {who for _, _, who in sent} == {"agent0001"}


def test_released_calls_expire_in_release_order():
    voice, _ = engine()
    user = voice.state.users["agent0001"]
    first, second = voice.ring(user, "1"), voice.ring(user, "2")
    voice.release(first)
    voice.release(second)
    assert voice.state.expire_released(first.released_at + 5, 10.0) == 0  # type: ignore[operator]
    assert voice.state.expire_released(first.released_at + 10, 10.0) == 1  # type: ignore[operator]
    assert list(user.calls) == [second.id] and first.id not in voice.state.calls
