"""Secret references and the delivery section's own validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.config import load_settings
from bridge.config.delivery import DeliverySettings, DestinationConfig
from bridge.config.secret_refs import resolve_secret
from bridge.errors import ConfigError


def test_env_file_and_literal_references(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("whsec_fromfile\n")
    assert resolve_secret("env:CRM_SECRET", environ={"CRM_SECRET": "whsec_env"}) == "whsec_env"
    assert resolve_secret(f"file:{secret_file}") == "whsec_fromfile"
    assert resolve_secret("whsec_literal") == "whsec_literal"


def test_unresolvable_references_name_the_reference_not_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CRM_SECRET is not set"):
        resolve_secret("env:CRM_SECRET", environ={})
    with pytest.raises(ConfigError, match="cannot read file"):
        resolve_secret(f"file:{tmp_path / 'missing'}")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_secret("env:EMPTY", environ={"EMPTY": ""})


def test_a_pasted_secret_is_rejected_without_being_echoed(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        DestinationConfig(name="crm", kind="webhook", url="https://x", secrets=["hunter2-very-secret"])
    assert "hunter2" not in str(info.value)
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[[destinations]]\nname = "crm"\nkind = "webhook"\nurl = "https://x"\n'
        'secrets = ["hunter2-very-secret"]\n'
    )
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert "destinations.0.secrets" in str(error.value) and "hunter2" not in str(error.value)


def test_visibility_timeout_must_outlast_any_task() -> None:
    DeliverySettings(task_deadline=60, visibility_timeout=300)
    with pytest.raises(ValidationError, match="visibility_timeout"):
        DeliverySettings(task_deadline=60, visibility_timeout=80)


def test_journal_timeout_must_outlast_any_task_and_defaults_to_the_visibility_timeout() -> None:
    assert DeliverySettings(task_deadline=60, visibility_timeout=300).batch_lease == 300
    assert DeliverySettings(task_deadline=1, visibility_timeout=8, journal_timeout=2).batch_lease == 2
    with pytest.raises(ValidationError, match="journal_timeout"):
        DeliverySettings(task_deadline=60, visibility_timeout=300, journal_timeout=80)


def test_negative_retry_delays_are_refused() -> None:
    with pytest.raises(ValidationError, match=">= 0"):
        DeliverySettings(retry_schedule=[5, -1])
