"""The foundation's contracts: errors, events, settings, CLI, connector registry."""

from __future__ import annotations

import pytest
import redis

from bridge import errors
from bridge.cli import main
from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.events import Event, EventType
from connectors import connector_class


def test_error_tree_is_rooted_at_bridge_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.BridgeError), name


def test_event_round_trips_through_json() -> None:
    event = Event(
        id="e1",
        source="gws-bridge/test",
        type=EventType.CALL_RINGING,
        subject="call/1",
        time="2026-01-01T00:00:00Z",
        data={"ani": "5551212"},
        sequence=1,
        partitionkey="agent0001",
    )
    assert Event.from_json(event.to_json()) == event


def test_event_rejects_a_type_outside_the_catalogue() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        Event(
            id="e1", source="s", type="call.exploded", subject="call/1",
            time="2026-01-01T00:00:00Z", data={}, sequence=1, partitionkey="a",
        )  # fmt: skip


def test_every_event_type_has_a_meaning() -> None:
    assert all(t.meaning for t in EventType)


def test_settings_report_the_location_of_every_error(tmp_path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text("redis_url = 3\n[gws]\nrequest_timeout = -1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "redis_url" in message and "gws.request_timeout" in message


def test_unknown_connector_kind_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known kinds: .*webhook"):
        connector_class("carrier-pigeon")


def test_cli_rejects_unknown_command(capsys) -> None:
    assert main(["fly"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_private_redis_is_not_the_machines_own(redis_url: str) -> None:
    assert not redis_url.endswith(":6379/0")
    client = redis.Redis.from_url(redis_url)
    client.set("k", "v")
    assert client.get("k") == b"v"
    client.close()


def test_log_lines_carry_extra_fields_but_only_those() -> None:
    import logging

    from bridge.processes.logs import ExtraFieldsFormatter

    formatter = ExtraFieldsFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "gws login", None, None)
    record.agent = "agent0001"
    assert formatter.format(record) == "INFO gws login agent='agent0001'"
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "started", None, None)
    assert formatter.format(plain) == "INFO started"
