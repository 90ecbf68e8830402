"""Transport shapes, identification and the gws.unrecognized fallback."""

from __future__ import annotations

import orjson
import pytest

from bridge.errors import NormalizationError
from bridge.normalize import MemoryState, normalize

from .conftest import AGENT, fixture_bytes

META_CONNECT = {"successful": True, "advice": {"interval": 0}, "id": "15", "channel": "/meta/connect"}


def _message(name: str) -> dict:
    return orjson.loads(fixture_bytes(name))


def test_bayeux_batch_is_normalized_in_order_and_meta_entries_skipped(state: MemoryState) -> None:
    batch = [
        META_CONNECT,
        _message("cometd_call_StatusChange_Ringing_toast.json"),
        {"channel": "/meta/handshake", "successful": True},
        _message("cometd_call_StatusChange_Established_case.json"),
    ]
    events = normalize(orjson.dumps(batch), agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.ringing", "call.established"]


@pytest.mark.parametrize("wire", [b"", b"not json", b'{"data": ', "{'python': True}"])
def test_non_json_raises_normalization_error_and_changes_nothing(
    wire: bytes | str, state: MemoryState
) -> None:
    with pytest.raises(NormalizationError):
        normalize(wire, agent=AGENT, state=state)
    assert state.changes().values == {}


def test_str_and_bytes_and_dict_inputs_agree() -> None:
    blob = fixture_bytes("cometd_call_StatusChange_Ringing_toast.json")
    by_bytes = normalize(blob, agent=AGENT, state=MemoryState())
    by_str = normalize(blob.decode(), agent=AGENT, state=MemoryState())
    by_dict = normalize(orjson.loads(blob), agent=AGENT, state=MemoryState())
    assert [e.id for e in by_bytes] == [e.id for e in by_str] == [e.id for e in by_dict]


@pytest.mark.parametrize("name", ["mobile_push_call.json", "mobile_push_device.json"])
def test_mobile_push_payloads_are_unrecognized_with_raw(name: str) -> None:
    message = _message(name)
    (event,) = normalize(message, agent=AGENT, state=MemoryState())
    assert event.type == "gws.unrecognized"
    assert event.data["raw"] == message
    assert event.subject == f"unrecognized/{AGENT}"


@pytest.mark.parametrize(
    "message",
    [
        {"channel": "/v2/me/calls", "data": {"messageType": "SomethingNew", "x": 1}},
        {"channel": "/v2/me/calls", "data": {"messageType": "CallStateChangeMessage", "call": "oops"}},
        {"channel": "/v2/me/devices", "data": {"messageType": "DeviceStateChangeMessage", "devices": [1, 2]}},
        {"channel": "/v2/me/calls", "data": 42},
        {"channel": "/v2/me"},
        42,
        None,
        "text",
        [[]],
    ],
)
def test_unknown_input_becomes_unrecognized(message: object) -> None:
    events = normalize(orjson.dumps(message), agent=AGENT, state=MemoryState())
    assert [e.type for e in events] == ["gws.unrecognized"]
    assert events[0].data["raw"] == (message[0] if isinstance(message, list) else message)
    assert not events[0].data["reason"].startswith("normalizer error")


def test_same_unrecognized_message_twice_is_one_event(state: MemoryState) -> None:
    message = {"channel": "/v2/me/calls", "data": {"messageType": "SomethingNew"}}
    first = normalize(message, agent=AGENT, state=state)
    assert len(first) == 1
    assert normalize(message, agent=AGENT, state=state) == []


def test_empty_batch_and_bayeux_replies_give_nothing() -> None:
    assert normalize(b"[]", agent=AGENT, state=MemoryState()) == []
    reply = {"channel": "/v2/me/calls", "successful": True, "id": "3"}
    assert normalize(reply, agent=AGENT, state=MemoryState()) == []


def test_bare_message_with_top_level_message_type(state: MemoryState) -> None:
    wrapped = _message("cometd_workbin_placed_in.json")
    bare = {"channel": wrapped["channel"], **wrapped["data"]}
    (event,) = normalize(bare, agent=AGENT, state=state)
    assert event.type == "workbin.interaction_added"


def test_topic_inside_data_is_not_taken_for_a_media_name() -> None:
    (event,) = normalize(
        fixture_bytes("cometd_device_DeviceStateChange_003.json"), agent=AGENT, state=MemoryState()
    )
    assert event.type == "agent.state_changed"


def test_odd_values_that_orjson_cannot_write_are_made_safe() -> None:
    message = {"channel": "/v2/x", "data": {"messageType": "X", "big": 2**80, 1: "int key", "s": "\ud800"}}
    (event,) = normalize(message, agent=AGENT, state=MemoryState())
    assert event.type == "gws.unrecognized"
    assert orjson.loads(event.to_json())["data"]["raw"]["data"]["big"] == str(2**80)


def test_json_nested_deeper_than_the_parsers_is_unrecognized_not_an_error() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    (event,) = normalize(deep, agent=AGENT, state=MemoryState())
    assert event.type == "gws.unrecognized"
