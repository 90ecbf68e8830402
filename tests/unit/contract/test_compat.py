"""Which schema changes break consumers, and `gws-bridge schemas` refusing them without a version bump."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from bridge.cli import main
from bridge.event_data.compat import breaking_changes
from bridge.event_data.publish import published_files, render

RINGING = "call.ringing.json"


def _ringing() -> dict[str, Any]:
    return copy.deepcopy(published_files()[RINGING])


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["CallRinging"]  # type: ignore[no-any-return]


def _edited(edit: Any) -> dict[str, Any]:
    schema = _ringing()
    edit(schema)
    return schema


def _nullable(kind: str) -> dict[str, Any]:
    return {"anyOf": [{"type": kind}, {"type": "null"}]}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: _data(s)["properties"].pop("ani") and _data(s)["required"].remove("ani"), "ani: removed"),
        (lambda s: _data(s)["properties"].update(duration=_nullable("string")), "duration<anyOf 0>: type"),
        (lambda s: _data(s)["properties"].update(call_id=_nullable("string")), "call_id: "),
        (lambda s: _data(s)["required"].remove("muted"), "muted: no longer always present"),
        (lambda s: s["$defs"]["Participant"]["properties"].pop("e164"), "participants[].e164: removed"),
        (
            lambda s: _data(s)["properties"]["direction"]["anyOf"][0]["enum"].append("both"),
            "direction<anyOf 0>",
        ),
        (lambda s: s["properties"].update(sequence={"type": "integer"}), "sequence: "),
        (
            lambda s: (
                _data(s)["properties"].update(queue=_nullable("string")),
                _data(s)["required"].append("queue"),
            ),
            "queue: added as required",
        ),
    ],
)
def test_breaking_changes_are_named(edit: Any, expected: str) -> None:
    # the old schema is the edited one when the edit removes something, so test both directions
    old, new = _ringing(), _edited(edit)
    found = breaking_changes(old, new) + breaking_changes(new, old)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: _data(s)["properties"]["ani"].update(description="reworded"),
        lambda s: _data(s)["properties"].update(queue=_nullable("string")),  # optional: absent in old events
        lambda s: s.update(title="another title"),
    ],
)
def test_compatible_changes_pass(edit: Any) -> None:
    assert breaking_changes(_ringing(), _edited(edit)) == []


def _write(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(exist_ok=True)
    for name, document in files.items():
        (directory / name).write_bytes(render(document))


def test_the_command_writes_every_file_and_then_finds_them_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schemas"
    assert main(["schemas", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(published_files())
    assert main(["schemas", str(out), "--check"]) == 0
    (out / RINGING).write_text("{}")
    assert main(["schemas", str(out), "--check"]) == 1
    assert f"{out / RINGING}: differs" in capsys.readouterr().err


def test_the_command_refuses_a_breaking_change_unless_the_version_was_bumped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = published_files()
    legacy = _ringing()  # as if an older release had a field the models no longer have
    _data(legacy)["properties"]["legacy_code"] = {"type": "string"}
    _data(legacy)["required"].append("legacy_code")
    _write(tmp_path, {**committed, RINGING: legacy})
    assert main(["schemas", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "call.ringing.json: data.legacy_code: removed; bump its version" in err
    assert orjson.loads((tmp_path / RINGING).read_bytes()) == legacy  # nothing written

    legacy["$id"] = "urn:gws-bridge:event:call.ringing:v0"  # the models are a version ahead of it
    _write(tmp_path, {RINGING: legacy})
    assert main(["schemas", str(tmp_path)]) == 0
    assert orjson.loads((tmp_path / RINGING).read_bytes()) == committed[RINGING]
