"""Slack configuration from TOML and the environment, as docs/slack.md shows it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError
from connectors import connector_class
from connectors.slack import SlackOptions

TOML = """
[[agents]]
username = "jsmith"
password = "pw"

[[destinations]]
name = "slack-cc"
kind = "slack"

[destinations.options]
token = "env:SLACK_BOT_TOKEN"
channel = "C0123456789"
dispositions = ["IssueResolved"]

[inbound.slack]
agent_command = "/agent"

[inbound.slack.users]
U024BE7LH = "jsmith"
"""


def test_the_documented_configuration_loads_with_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(TOML)
    monkeypatch.setenv("GWSB_INBOUND__SLACK__SIGNING_SECRET", "from-the-environment")
    settings = load_settings(path)
    slack = settings.inbound.slack
    assert slack is not None
    assert slack.signing_secret.get_secret_value() == "from-the-environment"
    assert slack.users == {"U024BE7LH": "jsmith"}
    assert settings.destinations[0].options["channel"] == "C0123456789"
    assert connector_class("slack").kind == "slack"


def test_a_slack_section_without_a_signing_secret_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(TOML)
    with pytest.raises(ConfigError, match=r"inbound\.slack\.signing_secret"):
        load_settings(path)


def test_the_documented_destination_options_are_valid_slack_options() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "slack.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", doc, re.S) if "[destinations.options]" in b)
    options = SlackOptions.model_validate(tomllib.loads(block)["destinations"][0]["options"])
    assert options.call_controls == (("Billing", "5002"), ("Second line", "+31205550100"))
    with pytest.raises(ValueError, match="transfer_targets"):
        SlackOptions.model_validate(
            dict(options.model_dump(), transfer_targets=[{"name": "x", "number": "5 0"}])
        )
