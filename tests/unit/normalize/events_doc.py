"""Generates docs/events.md from the catalogue, the data models and the fixtures (real output as examples).

    .venv/bin/python tests/unit/normalize/events_doc.py      # rewrite docs/events.md

``test_events_doc.py`` fails when docs/events.md differs from what this renders.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bridge.config.statistics import StatisticsObject
from bridge.event_data import EventData, contract
from bridge.event_data.agents import DeviceFields
from bridge.event_data.calls import CallData
from bridge.event_data.interactions import InteractionFields
from bridge.event_data.schemas import data_schema
from bridge.events import Event, EventType
from bridge.normalize import MemoryState, Snapshot, normalize, normalize_snapshot
from bridge.normalize.statistics import parse_latest, stats_events

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "gws"
DOC = ROOT / "docs" / "events.md"
AGENT = "jsmith"
EXAMPLE_TIME = datetime(2026, 1, 15, 9, 30, 0, tzinfo=UTC)
_DELIVERY = "emitted by the delivery layer (`bridge/delivery/`), not by the normalizer"
NOT_FROM_GWS = {
    EventType.DESTINATION_DISABLED: _DELIVERY,
    EventType.DESTINATION_TEST: "sent by an operator (`gws-bridge destinations test`, the console)",
    EventType.DELIVERY_DEAD_LETTERED: _DELIVERY,
    EventType.MOBILE_TOKEN_INVALIDATED: "emitted by the push connector (`connectors/`)",
}


def _load(name: str) -> object:
    return orjson.loads((FIXTURES / name).read_bytes())


def _feed(*items: str | object) -> list[Event]:
    state = MemoryState()
    events: list[Event] = []
    for item in items:
        message = _load(item) if isinstance(item, str) else item
        events += normalize(message, agent=AGENT, state=state)  # type: ignore[arg-type]
    return events


def _inactive_device() -> list[Event]:
    message = _load("cometd_device_DeviceStateChange_NotReady.json")
    inactive = copy.deepcopy(message)
    inactive["data"]["devices"][0]["deviceState"] = "Inactive"  # type: ignore[index]
    return _feed(message, inactive)


def _muted_call() -> list[Event]:
    answered = _load("cometd_call_StatusChange_Established_Answer.json")
    muted = copy.deepcopy(answered)
    muted["data"]["call"]["mute"] = "On"  # type: ignore[index]
    return _feed(answered, muted)


def _stats_readings() -> list[Event]:
    """The seed's latest-values sample read twice: 222 answered, then 230 (numCalls past 520)."""
    obj = StatisticsObject(object_id="VQ_Support", name="Support", thresholds=["numCalls > 520"])
    first = _load("rest_get_stats_latest_response.json")
    later = copy.deepcopy(first)
    later["statistics"][0].update(value=230, time=1345144090379)  # type: ignore[index]
    later["statistics"][1].update(value=530, time=1345144090379)  # type: ignore[index]
    events, snapshot = stats_events(obj, parse_latest(first), None, source="gws-bridge", now=EXAMPLE_TIME)
    more, _ = stats_events(obj, parse_latest(later), snapshot, source="gws-bridge", now=EXAMPLE_TIME)
    return events + more


def _completed_after_recovery() -> list[Event]:
    state = MemoryState()
    for name in ("cometd_interaction_email_invited.json", "synthetic_interaction_email_accepted.json"):
        normalize(_load(name), agent=AGENT, state=state)  # type: ignore[arg-type]
    body = _load("rest_get_me_interactions_fields_response.json")
    return normalize_snapshot(Snapshot(interactions=body), agent=AGENT, state=state)


TRANSFER = [
    f"cometd_call_StatusChange_{step}_transferScenarioA_{i}.json"
    for i, step in enumerate(["Ringing", "Established", "Held", "Dialing", "Released", "Released"], start=1)
]
CALL, DEVICE, IX = "cometd_call_", "cometd_device_DeviceStateChange_", "cometd_interaction_"
Steps = list[str] | Callable[[], list[Event]]

# event type -> (how the example was made, fixture files fed in order, or a function giving events);
# the example is the last event of that type
SCENARIOS: dict[EventType, tuple[str, Steps]] = {
    EventType.CALL_DIALING: ("the two-step transfer scenario A (consult call)", TRANSFER[:4]),
    EventType.CALL_RINGING: ("`…Ringing_toast.json`", [CALL + "StatusChange_Ringing_toast.json"]),
    EventType.CALL_ESTABLISHED: (
        "`…Ringing_toast.json` then `…Established_case.json`",
        [CALL + "StatusChange_Ringing_toast.json", CALL + "StatusChange_Established_case.json"],
    ),
    EventType.CALL_HELD: ("the two-step transfer scenario A", TRANSFER[:3]),
    EventType.CALL_RETRIEVED: (
        "`…Held_Hold.json` then `synthetic_call_StatusChange_Established_Retrieve.json`",
        [CALL + "StatusChange_Held_Hold.json", "synthetic_call_StatusChange_Established_Retrieve.json"],
    ),
    EventType.CALL_RELEASED: ("the two-step transfer scenario A (original call)", TRANSFER[:5]),
    EventType.CALL_PARTICIPANTS_CHANGED: (
        "`…DtmfSent_Established_SendDtmf.json` then `…SingleStepConference_sample1.json` (the same call)",
        [
            CALL + "DtmfSent_Established_SendDtmf.json",
            CALL + "ParticipantsUpdated_Established_SingleStepConference_sample1.json",
        ],
    ),
    EventType.CALL_DATA_CHANGED: (
        "`…UpdateUserData_sample2.json` then `…DeleteUserDataPair.json`",
        [
            CALL + "AttachedDataChanged_Established_UpdateUserData_sample2.json",
            CALL + "AttachedDataChanged_Established_DeleteUserDataPair.json",
        ],
    ),
    EventType.CALL_DTMF_SENT: (
        "`…DtmfSent_Established_SendDtmf.json`",
        [CALL + "DtmfSent_Established_SendDtmf.json"],
    ),
    EventType.CALL_RECORDING_CHANGED: (
        "`…Recording_Start.json` then `…Paused_Pause.json`",
        [
            CALL + "CallRecordingStateChange_Recording_Start.json",
            CALL + "CallRecordingStateChange_Paused_Pause.json",
        ],
    ),
    EventType.CALL_MUTE_CHANGED: (
        "`…Established_Answer.json`, then the same call with mute On (no MuteCall sample)",
        _muted_call,
    ),
    EventType.CALL_MONITORING_CHANGED: (
        "`…SwitchToBargeIn.json` then `…MonitoredUserMutedStateChange_Mute.json`",
        [
            CALL + "StatusChange_Established_SwitchToBargeIn.json",
            CALL + "MonitoredUserMutedStateChange_Mute.json",
        ],
    ),
    EventType.CALL_DISPOSITION_SET: (
        "`…AttachedDataChanged_Established_SetCallDisposition.json`",
        [CALL + "AttachedDataChanged_Established_SetCallDisposition.json"],
    ),
    EventType.CALL_ERROR: (
        "`cometd_error_call_IncorrectObjectState.json`",
        ["cometd_error_call_IncorrectObjectState.json"],
    ),
    EventType.AGENT_STATE_CHANGED: (
        "`cometd_device_state_Training.json`",
        ["cometd_device_state_Training.json"],
    ),
    EventType.AGENT_DND_CHANGED: (
        "`…DeviceStateChange_DoNotDisturbOn.json`",
        [DEVICE + "DoNotDisturbOn.json"],
    ),
    EventType.AGENT_FORWARDING_CHANGED: (
        "`…DeviceStateChange_ForwardCallsOff.json` (a copy of ForwardCallsOn in the seed)",
        [DEVICE + "ForwardCallsOff.json"],
    ),
    EventType.AGENT_MONITORING_CHANGED: ("`…supervisor_Coach.json`", [DEVICE + "supervisor_Coach.json"]),
    EventType.DEVICE_STATE_CHANGED: (
        "`…DeviceStateChange_NotReady.json`, then the same device with deviceState Inactive",
        _inactive_device,
    ),
    EventType.DEVICE_ERROR: (
        "`cometd_error_device_InvalidCalledDn.json`",
        ["cometd_error_device_InvalidCalledDn.json"],
    ),
    EventType.CHANNEL_STATE_CHANGED: (
        "`cometd_channels_chat_Ready.json`",
        ["cometd_channels_chat_Ready.json"],
    ),
    EventType.INTERACTION_INVITED: ("`…email_invited.json`", [IX + "email_invited.json"]),
    EventType.INTERACTION_ACCEPTED: (
        "`…email_invited.json` then `synthetic_interaction_email_accepted.json`",
        [IX + "email_invited.json", "synthetic_interaction_email_accepted.json"],
    ),
    EventType.INTERACTION_REVOKED: (
        "`…chat_invited.json` then `…chat_revoked.json`",
        [IX + "chat_invited.json", IX + "chat_revoked.json"],
    ),
    EventType.INTERACTION_REPLY_CREATED: (
        "`…email_ReplyCreated_Reply.json`",
        [IX + "email_ReplyCreated_Reply.json"],
    ),
    EventType.INTERACTION_QUEUED: (
        "`…email_invited.json`, `synthetic_interaction_email_accepted.json`, then `…email_queued.json`",
        [
            IX + "email_invited.json",
            "synthetic_interaction_email_accepted.json",
            "synthetic_interaction_email_queued.json",
        ],
    ),
    EventType.INTERACTION_UPDATED: ("`…chat_PropertiesChanged.json`", [IX + "chat_PropertiesChanged.json"]),
    EventType.INTERACTION_COMPLETED: (
        "state recovery: an accepted e-mail no longer listed by GWS",
        _completed_after_recovery,
    ),
    EventType.CHAT_MESSAGE: (
        "`…chat_PropertiesChanged.json` (the last new transcript entry)",
        [IX + "chat_PropertiesChanged.json"],
    ),
    EventType.WORKBIN_INTERACTION_ADDED: (
        "`cometd_workbin_placed_in.json`",
        ["cometd_workbin_placed_in.json"],
    ),
    EventType.WORKBIN_INTERACTION_REMOVED: (
        "`…placed_in.json` then `synthetic_workbin_taken_out.json`",
        ["cometd_workbin_placed_in.json", "synthetic_workbin_taken_out.json"],
    ),
    EventType.WORKBIN_INTERACTION_UPDATED: (
        "`…placed_in.json` then `synthetic_workbin_changed.json`",
        ["cometd_workbin_placed_in.json", "synthetic_workbin_changed.json"],
    ),
    EventType.SERVICE_STATE_CHANGED: (
        "`…service_active.json` then `…service_inactive.json`",
        ["cometd_service_active.json", "cometd_service_inactive.json"],
    ),
    EventType.USER_PASSWORD_CHANGED: (
        "`synthetic_users_password_change_error.json`",
        ["synthetic_users_password_change_error.json"],
    ),
    EventType.STATS_UPDATED: (
        "`rest_get_stats_latest_response.json` read twice, two values changed (`bridge/gws/statistics.py`)",
        _stats_readings,
    ),
    EventType.STATS_THRESHOLD_CROSSED: (
        "the same readings with the threshold `numCalls > 520`",
        _stats_readings,
    ),
    EventType.GWS_UNRECOGNIZED: (
        "`mobile_push_call.json` (a push payload is not a CometD message)",
        ["mobile_push_call.json"],
    ),
}

INTRO = (Path(__file__).parent / "events_doc_intro.md").read_text()


def _example(event_type: EventType) -> Event:
    _, steps = SCENARIOS[event_type]
    events = _feed(*steps) if isinstance(steps, list) else steps()
    matching = [e for e in events if e.type == event_type.value]
    if not matching:
        raise AssertionError(f"the scenario for {event_type.value} produced no such event")
    return matching[-1].model_copy(update={"time": EXAMPLE_TIME})


# the models whose fields several types share: listed once, under "Shared fields"
SHARED: dict[type[EventData], str] = {
    CallData: "call fields",
    DeviceFields: "device fields",
    InteractionFields: "interaction fields",
}


def _type_text(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A property's JSON Schema in words: ``string or null``, ``list of {number, e164, formatted}``, …"""
    if "$ref" in node:
        model = defs[node["$ref"].rsplit("/", 1)[-1]]
        return "{" + ", ".join(model["properties"]) + "}"
    if "const" in node:
        return f"`{orjson.dumps(node['const']).decode()}`"
    if "enum" in node:
        return " \\| ".join(f"`{orjson.dumps(v).decode()}`" for v in node["enum"])
    if "anyOf" in node:
        kinds = [_type_text(option, defs) for option in node["anyOf"]]
        return " or ".join(k for k in kinds if k != "null") + (" or null" if "null" in kinds else "")
    kind = node.get("type")
    if kind == "array":
        return "list of " + _type_text(node.get("items", {}), defs)
    if kind == "object":
        values = node.get("additionalProperties")
        return "object" if values in (True, None) else "object of " + _type_text(values, defs)
    return {"integer": "int", "boolean": "bool"}.get(str(kind), str(kind)) if kind else "any JSON"


def _field_rows(model: type[EventData], names: list[str]) -> list[str]:
    schema = data_schema(model)
    defs, required = schema.get("$defs", {}), set(schema.get("required", ()))
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for name in names:
        prop = schema["properties"][name]
        kind = _type_text(prop, defs) + ("" if name in required else ", optional")
        meaning = "Always this value." if "const" in prop else prop.get("description", "")
        rows.append(f"| `{name}` | {kind} | {meaning} |")
    return [*rows, ""]


def _shown(model: type[EventData], base: type[EventData] | None) -> list[str]:
    """The fields a type's section lists: all, or those it adds to or narrows in its shared base."""
    names = [n for n in model.model_fields if n != "raw" or model.model_fields[n].is_required()]
    if base is None:
        return names
    own = base.model_fields
    return [n for n in names if n not in own or model.model_fields[n].annotation != own[n].annotation]


def _data_section(event_type: EventType) -> list[str]:
    model = contract(event_type).model
    base = next((b for b in model.__mro__ if b in SHARED), None)
    shown = _shown(model, base)
    lines = []
    if base is not None:
        anchor = SHARED[base].replace(" ", "-")
        extra = ", plus:" if shown else "."
        lines += [f"`data`: the [{SHARED[base]}](#{anchor}){extra}", ""]
    else:
        lines += ["`data`:", ""]
    return lines + (_field_rows(model, shown) if shown else [])


def render() -> str:
    """The whole of docs/events.md."""
    lines = [INTRO, "| type | meaning |", "|---|---|"]
    for event_type in EventType:
        lines.append(
            f"| [`{event_type.value}`](#{event_type.value.replace('.', '')}) | {event_type.meaning} |"
        )
    lines += ["", "## Shared fields", ""]
    for model, name in SHARED.items():
        lines += [f"### {name}", "", " ".join(str(model.__doc__).split()), ""]
        lines += _field_rows(model, [n for n in model.model_fields if n != "raw"])
    lines += ["## Types", ""]
    for event_type in EventType:
        lines += [f"### {event_type.value}", "", event_type.meaning + ".", ""]
        lines += _data_section(event_type)
        if event_type in NOT_FROM_GWS:
            lines += [f"Not a GWS event: {NOT_FROM_GWS[event_type]}.", ""]
            continue
        how, _ = SCENARIOS[event_type]
        example = orjson.loads(_example(event_type).to_json())
        blob = orjson.dumps(example, option=orjson.OPT_INDENT_2).decode()
        lines += [f"Example, from {how}:", "", "```json", blob, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC}", file=sys.stderr)
