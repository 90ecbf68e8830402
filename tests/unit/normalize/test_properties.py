"""Property tests: arbitrary JSON and mutated samples never crash the normalizer or break the schemas."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.events import Event
from bridge.normalize import MemoryState, normalize
from tests.plugins.contract import contract_problems

from .conftest import AGENT, FIXTURES

SAMPLES = [orjson.loads(p.read_bytes()) for p in sorted(FIXTURES.glob("cometd_*.json"))]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
KEYS = ["data", "channel", "messageType", "messageTypeName", "call", "state", "devices", "userData",
        "interaction", "content", "events", "id", "participantsInfo", "service", "channels", "callUri",
        "notificationType", "duration", "userState", "workbinInfo"]  # fmt: skip
TOPICS = ["/v2/me/calls", "/v2/me/devices", "/v2/me/interactions", "/v2/me/channels", "/v2/me/workbins",
          "/notifications/services", "/v2/me", "/meta/connect", "/elsewhere"]  # fmt: skip


def _check(events: list[Event]) -> None:
    for event in events:
        wire = event.to_json()  # must serialize (odd values made safe); infinities become null
        assert Event.from_json(wire).to_json() == wire
        assert contract_problems(orjson.loads(wire)) == []  # whatever GWS sends, docs/schemas holds
        if event.type == "gws.unrecognized":
            assert not event.data["reason"].startswith("normalizer error"), event.data["reason"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    _check(normalize(json.dumps(value), agent=AGENT, state=MemoryState()))
    if isinstance(value, dict | list):  # str/bytes are wire text, parsed
        _check(normalize(value, agent=AGENT, state=MemoryState()))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(KEYS), json_values, st.sampled_from(TOPICS), json_values)
def test_envelopes_with_arbitrary_contents_never_raise(key: str, value: Any, topic: str, data: Any) -> None:
    message = {"channel": topic, "data": {"messageType": "CallStateChangeMessage", key: value}}
    _check(normalize(message, agent=AGENT, state=MemoryState()))
    _check(normalize({"channel": topic, "data": data}, agent=AGENT, state=MemoryState()))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_samples_never_raise_and_replay_is_stable(data: st.DataObject) -> None:
    sample = data.draw(st.sampled_from(SAMPLES))
    state = MemoryState()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(sample)[1:] or [()]))
        sample = _replace(sample, path, data.draw(json_values))
    if not isinstance(sample, dict | list):
        return
    events = normalize(sample, agent=AGENT, state=state)
    _check(events)
    replay = normalize(sample, agent=AGENT, state=state)
    assert [e for e in replay if e.type != "gws.unrecognized"] == []


# keys GWS uses somewhere: added where a sample has none, they reach code paths the samples do not
GWS_KEYS = [
    "errorMessage", "errorCode", "connectionId", "callUuid", "userData", "state", "mute",
    "recordingState", "participants", "participantsInfo", "monitoring", "supervisorListeningIn",
    "monitoredUserMuted", "digits", "callType", "deviceState", "doNotDisturb", "forwardTo",
    "userState", "supervisorMonitoringState", "dndState", "content", "events", "capabilities",
    "currentQueue", "toast", "case", "duration", "notificationType", "callUri", "deviceUri",
    "parentCallUri", "phoneNumber", "e164Number", "operation", "reasonInfo", "actorInfo", "userId",
    "userUri",
]  # fmt: skip


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


# what GWS may add to a message's data beside the object it is about (8.5.1 errors, push ids, …)
MESSAGE_KEYS = [
    "errorMessage", "errorCode", "connectionId", "callUuid", "notificationType", "callUri",
    "deviceUri", "phoneNumber", "userId", "userUri", "operation", "reasonInfo", "actorInfo",
    "digits", "state", "userData",
]  # fmt: skip


def test_every_sample_with_each_message_key_added_keeps_the_schemas() -> None:
    for sample in SAMPLES:
        messages = sample if isinstance(sample, list) else [sample]
        for i, message in enumerate(messages):
            if not isinstance(message.get("data"), dict):
                continue
            for key in MESSAGE_KEYS:
                delivery = list(messages)
                delivery[i] = {**message, "data": {**message["data"], key: "7"}}
                _check(normalize(delivery, agent=AGENT, state=MemoryState()))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_samples_with_added_gws_keys_keep_the_schemas(data: st.DataObject) -> None:
    sample = data.draw(st.sampled_from(SAMPLES))
    state = MemoryState()
    for _ in range(data.draw(st.integers(1, 3))):
        objects = [p for p in _paths(sample) if isinstance(_get(sample, p), dict)]
        path = data.draw(st.sampled_from(objects))
        key = data.draw(st.sampled_from(GWS_KEYS))
        sample = _replace(sample, path, {**_get(sample, path), key: data.draw(json_values)})
    _check(normalize(sample, agent=AGENT, state=state))
