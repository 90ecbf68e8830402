"""`gws-bridge check-config` explains every problem with its location, and passes the example."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "bridge.example.toml"


def test_example_configuration_is_valid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GWSB_AGENT1_PASSWORD", "pw")
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "crm (webhook, ordered)" in out


def test_schema_errors_are_listed_with_their_locations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        "[delivery]\nretry_jitter = 2\n"
        '[[destinations]]\nname = "crm"\nkind = "webhook"\nurl = "ftp://x"\ntimeout = -1\n'
        "[[routes]]\ndestinations = []\n"
    )
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    for location in (
        "delivery.retry_jitter",
        "destinations.0.url",
        "destinations.0.timeout",
        "routes.0.destinations",
    ):
        assert f"{config}: {location}:" in err


def test_cross_section_errors_are_listed_with_their_locations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[[destinations]]\nname = "crm"\nkind = "webhook"\nurl = "https://crm"\n'
        'secrets = ["env:NOPE_NOT_SET"]\n'
        '[[destinations]]\nname = "crm"\nkind = "carrier-pigeon"\n'
        '[[routes]]\nevents = ["cal.*"]\ndestinations = ["crm", "slack"]\n'
    )
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "destinations.0.secrets.0: secret env:NOPE_NOT_SET" in err
    assert "destinations.1.name: duplicate destination name 'crm'" in err
    assert "destinations.1.kind: unknown destination kind 'carrier-pigeon'" in err
    assert "routes.0.events.0: 'cal.*' matches no event type" in err
    assert "routes.0.destinations.1: unknown destination 'slack'" in err
    assert main(["check-config", "--config", str(config), "--no-secrets"]) == 2
    assert "NOPE_NOT_SET" not in capsys.readouterr().err


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "no such configuration file" in capsys.readouterr().err


def test_no_secrets_needs_no_agent_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[[agents]]\nusername = "a1"\npassword_env = "GWSB_TEST_UNSET_PW"\n'
        '[[agents]]\nusername = "a2"\npassword_file = "/nonexistent/pw"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 2
    assert "GWSB_TEST_UNSET_PW" in capsys.readouterr().err
    assert main(["check-config", "--config", str(config), "--no-secrets"]) == 0
    assert "2 agent(s)" in capsys.readouterr().out


def test_slack_options_and_users_are_checked_before_a_worker_refuses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GWSB_TEST_SLACK_UNSET", raising=False)
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[[agents]]\nusername = "agent0001"\npassword = "pw"\n'
        '[[destinations]]\nname = "slack-cc"\nkind = "slack"\n'
        '[destinations.options]\ntoken = "env:GWSB_TEST_SLACK_UNSET"\nchannel = "C0123456789"\n'
        'threads = "updates"\ntransfer_targets = [{ name = "Billing" }]\n'
        '[[destinations]]\nname = "slack-hook"\nkind = "slack"\noptions = { channel = "C0123456789" }\n'
        '[inbound.slack]\nsigning_secret = "s"\nusers = { U024BE7LH = "jsmith", U0G9QF9C6 = "agent0001" }\n'
    )
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "destinations.0.options.threads: Input should be 'reply', 'update', 'both' or 'off'" in err
    assert "destinations.0.options.transfer_targets.0.number: Field required" in err
    assert "destinations.1.options: Value error, give either token (with channel) or webhook_url" in err
    assert "inbound.slack.users.U024BE7LH: agent 'jsmith' is not in [[agents]]" in err
    assert "U0G9QF9C6" not in err
    # once the options are right, the bot token's reference must resolve (named, never echoed)
    config.write_text(
        '[[agents]]\nusername = "agent0001"\npassword = "pw"\n'
        '[[destinations]]\nname = "slack-cc"\nkind = "slack"\n'
        'options = { token = "env:GWSB_TEST_SLACK_UNSET", channel = "C0123456789" }\n'
    )
    assert main(["check-config", "--config", str(config)]) == 2
    assert "destinations.0.options.token: secret env:GWSB_TEST_SLACK_UNSET" in capsys.readouterr().err
    assert main(["check-config", "--config", str(config), "--no-secrets"]) == 0
    monkeypatch.setenv("GWSB_TEST_SLACK_UNSET", "xoxb-not-echoed")
    assert main(["check-config", "--config", str(config)]) == 0
    assert "xoxb-not-echoed" not in "".join(capsys.readouterr())


def test_slack_buttons_without_the_events_they_follow_get_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slack = (
        '[[destinations]]\nname = "slack-cc"\nkind = "slack"\n'
        'options = { token = "env:GWSB_TEST_UNSET_TOKEN", channel = "C0123456789" }\n'
    )
    config = tmp_path / "bridge.toml"
    # the route docs/slack.md used to show: Hold on the card, but never the held call's Retrieve
    config.write_text(
        slack + '[[routes]]\nevents = ["call.ringing", "call.established", "call.released", '
        '"interaction.invited", "chat.message"]\ndestinations = ["slack-cc"]\n'
    )
    assert main(["check-config", "--config", str(config), "--no-secrets"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out
    assert (
        f"note: {config}: destinations.0.options.call_buttons: Hold is shown on established calls, "
        "but call.held and call.retrieved are not routed here"
    ) in out
    assert "interaction.revoked and interaction.completed are not" in out
    for route in ('["call.*", "interaction.*", "chat.message"]', '["agent.*"]'):
        config.write_text(slack + f'[[routes]]\nevents = {route}\ndestinations = ["slack-cc"]\n')
        assert main(["check-config", "--config", str(config), "--no-secrets"]) == 0
        assert "note:" not in capsys.readouterr().out
    config.write_text(
        slack.replace('channel = "C0123456789"', 'channel = "C0123456789", call_buttons = false')
        + '[[routes]]\nevents = ["call.established"]\ndestinations = ["slack-cc"]\n'
    )
    assert main(["check-config", "--config", str(config), "--no-secrets"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_the_example_without_its_secrets_names_every_missing_one_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GWSB_AGENT1_PASSWORD", raising=False)
    monkeypatch.delenv("CRM_WEBHOOK_SECRET", raising=False)
    assert main(["check-config", "--config", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert f"{EXAMPLE}: agents.0: Value error, password_env env:GWSB_AGENT1_PASSWORD" in err
    assert f"{EXAMPLE}: destinations.0.secrets.0: secret env:CRM_WEBHOOK_SECRET" in err
    assert main(["check-config", "--config", str(EXAMPLE), "--no-secrets"]) == 0
