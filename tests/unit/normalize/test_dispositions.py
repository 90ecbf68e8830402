"""Dispositions: from GWS's AttachedDataChanged, or from the command when GWS sends nothing.

A disposition set after the call is released gets no notification from GWS (002:5504-5623);
the receiver files a note and the subscriber's normalizer reports it, with the same id rules.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from bridge.events import Event
from bridge.normalize import MemoryState, Snapshot, normalize, normalize_snapshot
from bridge.normalize.dispositions import disposition_note

from .conftest import AGENT, fixture_bytes

CALL_ID = "007102385535e00e"
CALL_UUID = "011DJV5JI898NB2L04000VTAES00000I"
UP = "cometd_call_StatusChange_Established_SwitchToBargeIn.json"  # the call, no userData
DISPOSED = "cometd_call_AttachedDataChanged_Established_SetCallDisposition.json"  # DispositionCode


def _message(name: str) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(fixture_bytes(name))
    return message


def _released() -> dict[str, Any]:
    """The call hung up (the Released form of the seed's call; GWS keeps userData)."""
    message = copy.deepcopy(_message(UP))
    message["data"]["call"].update(state="Released", duration="1200", capabilities=[])
    return message


def _run(state: MemoryState, *messages: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for message in messages:
        events += normalize(message, agent=AGENT, state=state)
    return events


def _note(value: str = "Sold", **options: Any) -> dict[str, Any]:
    options.setdefault("call_id", CALL_ID)
    options.setdefault("call_uuid", None)
    return disposition_note(disposition=value, **options)


def test_a_disposition_after_release_is_reported_from_the_note(state: MemoryState) -> None:
    _run(state, _message(UP), _released())
    events = _run(state, _note())
    assert [e.type for e in events] == ["call.data_changed", "call.disposition_set"]
    changed, disposed = events
    assert changed.data["data_changes"] == {
        "added": {"DispositionCode": "Sold"},
        "changed": {},
        "removed": [],
    }
    assert (disposed.data["disposition"], disposed.data["disposition_key"]) == ("Sold", "DispositionCode")
    assert disposed.data["state"] == "Released"
    assert disposed.data["notification_type"] is None  # no GWS notification: the command told
    assert disposed.subject == f"call/{CALL_ID}" and disposed.source == f"gws-bridge/{AGENT}"
    assert _run(state, _note()) == []  # the note delivered twice: one event
    # a recovery that finds the released call with the disposition attached adds nothing
    listed = copy.deepcopy(_released()["data"]["call"])
    listed["userData"] = {"DispositionCode": "Sold"}
    assert normalize_snapshot(Snapshot(calls={"calls": [listed]}), agent=AGENT, state=state) == []
    # …and so does one whose released call does not show it (GWS does not document either)
    listed["userData"] = {}
    assert normalize_snapshot(Snapshot(calls={"calls": [listed]}), agent=AGENT, state=state) == []


def test_one_disposition_has_one_id_whichever_path_reports_it() -> None:
    notified, reported = MemoryState(), MemoryState()
    (by_gws,) = [
        e for e in _run(notified, _message(UP), _message(DISPOSED)) if e.type == "call.disposition_set"
    ]
    _run(reported, _message(UP), _released())
    (by_note,) = [e for e in _run(reported, _note("IssueResolved")) if e.type == "call.disposition_set"]
    assert by_gws.id == by_note.id
    # a GWS notification of the same change after the note: nothing more
    late = copy.deepcopy(_message(DISPOSED))
    late["data"]["call"]["state"] = "Released"
    assert [e.type for e in _run(reported, late)] == []


def test_a_note_while_the_call_is_up_waits_for_gws(state: MemoryState) -> None:
    _run(state, _message(UP))
    assert _run(state, _note("IssueResolved")) == []  # GWS's AttachedDataChanged will tell
    events = _run(state, _message(DISPOSED))
    assert [e.type for e in events] == ["call.data_changed", "call.disposition_set"]
    assert events[1].data["notification_type"] == "AttachedDataChanged"
    assert [e.type for e in _run(state, _released())] == ["call.released"]  # nothing left waiting


def test_a_call_released_before_gws_confirmed_reports_the_waiting_disposition(state: MemoryState) -> None:
    _run(state, _message(UP), _note("Callback"))
    events = _run(state, _released())
    assert [e.type for e in events] == ["call.data_changed", "call.disposition_set", "call.released"]
    assert events[1].data["disposition"] == "Callback" and events[1].data["state"] == "Released"
    assert events[2].data["user_data"] == {"DispositionCode": "Callback"}  # the release is last


def test_the_commands_key_is_honoured_on_gws_notifications(state: MemoryState) -> None:
    _run(state, _message(UP), _note("Gold", key="WrapUp"))
    custom = copy.deepcopy(_message(DISPOSED))
    custom["data"]["call"]["userData"] = {"WrapUp": "Gold"}
    events = _run(state, custom)
    assert [e.type for e in events] == ["call.data_changed", "call.disposition_set"]
    assert (events[1].data["disposition_key"], events[1].data["disposition"]) == ("WrapUp", "Gold")
    # GWS told first, the note second (the key was not known then): reported once, when it comes
    other = MemoryState()
    assert [e.type for e in _run(other, _message(UP), custom)] == ["call.established", "call.data_changed"]
    (late,) = _run(other, _note("Gold", key="WrapUp"))
    assert (late.type, late.data["disposition_key"]) == ("call.disposition_set", "WrapUp")


def test_an_error_on_the_call_drops_the_waiting_disposition(state: MemoryState) -> None:
    _run(state, _message(UP), _note("Callback"))
    error = _message("cometd_error_call_IncorrectObjectState.json")
    error["data"]["callUri"] = f"http://127.0.0.1:8080/api/v2/calls/{CALL_ID}"
    assert [e.type for e in _run(state, error)] == ["call.error"]
    assert [e.type for e in _run(state, _released())] == ["call.released"]


def test_a_note_names_the_call_by_uuid_or_a_call_never_seen(state: MemoryState) -> None:
    _run(state, _message(UP), _released())
    (_, by_uuid) = _run(state, _note(call_id=None, call_uuid=CALL_UUID))
    assert by_uuid.subject == f"call/{CALL_ID}"
    (_, unseen) = _run(MemoryState(), _note(call_id="00710238deadbeef"))
    assert unseen.data["call_id"] == "00710238deadbeef" and unseen.data["state"] is None
    (unknown,) = _run(MemoryState(), _note(call_id=None, call_uuid="nobody-knows"))
    assert unknown.type == "gws.unrecognized"


def test_a_note_only_counts_on_the_bridges_own_channel(state: MemoryState) -> None:
    forged = _note()
    forged["channel"] = "/v2/me/calls"
    _run(state, _message(UP), _released())
    (event,) = _run(state, forged)
    assert event.type == "gws.unrecognized"
