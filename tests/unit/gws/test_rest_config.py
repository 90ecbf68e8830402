"""GwsSettings and AgentConfig: defaults, validation, password sources that never leak."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.config import format_validation_error
from bridge.config.gws import AgentConfig, GwsSettings


def test_gws_settings_defaults() -> None:
    settings = GwsSettings()
    assert settings.verify_tls is True
    assert settings.request_timeout == 10.0
    assert settings.get_retries == 3
    assert settings.disposition_key == "DispositionCode"


def test_gws_settings_reject_a_non_positive_timeout_and_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        GwsSettings(request_timeout=0)
    with pytest.raises(ValidationError):
        GwsSettings.model_validate({"base_url": "http://x", "bogus": 1})


def test_inline_password_stays_compatible_and_secret() -> None:
    agent = AgentConfig(username="agent0001", password="s3cret-pw", groups=["sales"])
    assert agent.password.get_secret_value() == "s3cret-pw"
    assert "s3cret-pw" not in repr(agent)
    assert "s3cret-pw" not in str(agent.model_dump())


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GWSB_TEST_AGENT_PW", "env-pw-123")
    agent = AgentConfig.model_validate({"username": "a", "password_env": "GWSB_TEST_AGENT_PW"})
    assert agent.password.get_secret_value() == "env-pw-123"


def test_missing_environment_variable_names_it_without_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GWSB_TEST_MISSING_PW", raising=False)
    with pytest.raises(ValidationError) as caught:
        AgentConfig.model_validate({"username": "a", "password_env": "GWSB_TEST_MISSING_PW"})
    assert "GWSB_TEST_MISSING_PW" in str(caught.value)


def test_password_from_file_first_line(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("file-pw-456\nignored\n", encoding="utf-8")
    agent = AgentConfig.model_validate({"username": "a", "password_file": str(secret)})
    assert agent.password.get_secret_value() == "file-pw-456"


def test_unreadable_or_empty_password_file_is_an_error_without_content(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        AgentConfig.model_validate({"username": "a", "password_file": str(tmp_path / "absent")})
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="is empty"):
        AgentConfig.model_validate({"username": "a", "password_file": str(empty)})


def test_two_password_sources_are_refused_and_the_message_has_no_password() -> None:
    with pytest.raises(ValidationError) as caught:
        AgentConfig.model_validate({"username": "a", "password": "pw-inline", "password_env": "X"})
    message = format_validation_error(caught.value, "bridge.toml")
    assert "give one of password, password_env, password_file" in message
    assert "pw-inline" not in message


def test_a_password_is_required() -> None:
    with pytest.raises(ValidationError):
        AgentConfig.model_validate({"username": "a"})
