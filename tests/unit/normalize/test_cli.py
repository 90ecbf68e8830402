"""gws-bridge normalize on fixture files and stdin (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys

import orjson

from bridge.events import Event

from .conftest import FIXTURES

TRANSFER = [
    FIXTURES / f"cometd_call_StatusChange_{step}_transferScenarioA_{i}.json"
    for i, step in enumerate(["Ringing", "Established", "Held", "Dialing", "Released", "Released"], start=1)
]


def _run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "normalize", *args],
        input=stdin,
        capture_output=True,
        timeout=30,
        check=False,
    )


def test_files_in_order_share_one_state() -> None:
    result = _run("--agent", "jsmith", *map(str, TRANSFER))
    assert result.returncode == 0, result.stderr
    events = [Event.from_json(line) for line in result.stdout.splitlines()]
    assert [e.type for e in events] == [
        "call.ringing",
        "call.established",
        "call.held",
        "call.dialing",
        "call.released",
        "call.released",
    ]
    assert {e.partitionkey for e in events} == {"jsmith"}
    assert all("raw" not in e.data for e in events)


def test_stdin_json_lines_with_raw_and_a_bad_line() -> None:
    lines = [(FIXTURES / "cometd_service_inactive.json").read_bytes().replace(b"\n", b""), b"not json"]
    result = _run("--include-raw", stdin=b"\n".join(lines))
    assert result.returncode == 1
    assert b"not JSON" in result.stderr
    (line,) = result.stdout.splitlines()
    event = orjson.loads(line)
    assert event["type"] == "service.state_changed"
    assert event["data"]["raw"]["channel"] == "/notifications/services"
    assert event["partitionkey"] == "agent"


def test_one_bayeux_array_on_stdin() -> None:
    result = _run(stdin=(FIXTURES / "cometd_interaction_chat_invited.json").read_bytes())
    assert result.returncode == 0
    assert [orjson.loads(x)["type"] for x in result.stdout.splitlines()] == ["interaction.invited"]


def test_missing_file_is_an_error_not_a_traceback() -> None:
    result = _run(str(FIXTURES / "no_such_file.json"))
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
