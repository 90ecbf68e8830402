"""The demo's pure parts: its generated configuration is valid, secrets stay out of messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.config.inbound import hash_api_key
from bridge.delivery.validation import delivery_config_problems
from bridge.demo.command import describe_event, describe_notification
from bridge.demo.stack import DemoConfig, redact_url, render_config
from bridge.demo.terminal import describe_figures


def test_the_generated_configuration_loads_and_holds_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_AGENT_PASSWORD", "password")
    monkeypatch.setenv("DEMO_CRM_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    config = DemoConfig(
        redis_url="redis://127.0.0.1:6390/0", gws_url="http://127.0.0.1:8091",
        agents=["agent0001", "agent0002"],
        sink_url="http://127.0.0.1:9000/hooks/genesys", receiver_port=8081, api_key_hash=hash_api_key("k"),
        password_env="DEMO_AGENT_PASSWORD", secret_env="DEMO_CRM_SECRET",
    )  # fmt: skip
    text = render_config(config)
    assert 'password"' not in text.replace("password_env", "") and "whsec_" not in text
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    assert delivery_config_problems(settings) == []
    assert [agent.username for agent in settings.agents] == ["agent0001", "agent0002"]
    assert settings.agents[0].password.get_secret_value() == "password"
    [crm] = settings.destinations
    assert crm.kind == "webhook" and crm.ordered and crm.url == config.sink_url
    assert settings.inbound.port == 8081 and settings.inbound.clients[0].agents == ["*"]


def test_redis_urls_lose_their_password_in_messages() -> None:
    assert redact_url("redis://:s3cret@redis.internal:6380/2") == "redis://:***@redis.internal:6380/2"
    assert redact_url("rediss://app:pw@host/1") == "rediss://app:***@host/1"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_terminal_lines_name_the_fields_people_look_at() -> None:
    event = {"data": {"state": "Ringing", "ani": "+14155550123", "user_data": {"CustomerName": "Ada"}}}
    assert describe_event(event) == "state=Ringing ani=+14155550123 userData=CustomerName"
    device = {"data": {"device_id": "d1", "device_state": "Inactive", "previous_device_state": "Active"}}
    assert describe_event(device) == "device_state=Inactive previous_device_state=Active"
    message = {
        "data": {
            "messageType": "ServiceStateChangeMessage",
            "service": {"type": "Voice", "state": "Inactive"},
        }
    }
    assert describe_notification(message) == ("ServiceStateChangeMessage", "Voice Inactive")


def test_the_wallboard_line_shows_the_figures_and_marks_the_changed_ones() -> None:
    data = {
        "name": "Support",
        "values": {"Current_In_Queue": 8, "CurrMaxCallWaitingTime": 65, "ServiceLevel": 92.5},
        "changed": {"Current_In_Queue": 8},
    }
    assert describe_figures(data) == "Support  Waiting 8* · Longest wait 1:05 · Service level 92%"
