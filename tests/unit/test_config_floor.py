"""The configuration floor: ``[subscriber]`` with flags over it, one key prefix for every owner."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.config.keys import Keys
from bridge.errors import ConfigError
from bridge.processes import subscriber


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    subscriber.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_subscriber_options_come_from_the_file_and_flags_override_them(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[subscriber]\nlease_ttl = 30.0\ncapacity = 7\nchannels = ["voice"]\n')
    from_file = subscriber.build_settings(_args("--config", str(config))).subscriber
    assert (from_file.lease_ttl, from_file.capacity, from_file.channels) == (30.0, 7, ["voice"])
    assert from_file.batch_max_events == 500  # the default where neither says otherwise

    overridden = subscriber.build_settings(
        _args("--config", str(config), "--lease-ttl", "5", "--channel", "chat", "--channel", "email")
    ).subscriber
    assert (overridden.lease_ttl, overridden.capacity) == (5.0, 7)
    assert overridden.channels == ["chat", "email"]


@pytest.mark.parametrize(
    ("flag", "value"), [("--capacity", "-1"), ("--lease-ttl", "0"), ("--batch-max-delay", "-0.1")]
)
def test_a_bad_flag_is_named_like_a_bad_option(flag: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{flag}: "):
        subscriber.build_settings(_args(flag, value))


def test_a_bad_subscriber_option_in_the_file_names_its_location(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("[subscriber]\nlease_ttl = -1\n")
    with pytest.raises(ConfigError, match=r"subscriber\.lease_ttl"):
        load_settings(config)


def test_every_redis_key_follows_the_one_prefix(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[delivery]\nkey_prefix = "site2"\n')
    keys = load_settings(config).keys
    assert keys == Keys("site2")
    names = [keys.leases, keys.state, keys.mobile, keys.retry, keys.dead_letters, keys.journal,
             keys.fifo("crm", "call/1"), keys.slack.thread("C1", "call/1"),
             keys.inbound.idempotency("crm", "k1"), keys.inbound.command("c1")]  # fmt: skip
    assert all(name.startswith("site2:") for name in names), names
    assert len(set(names)) == len(names)
