"""Every typed operation against the simulator: what reached GWS (``/sim/log``) and what came back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bridge.gws import operations as ops
from bridge.gws.rest import GwsRestClient
from tests.plugins.simulator import SimulatorHandle

AGENT = "agent0001"


@dataclass
class Ctx:
    """What an operation case needs: the client and the ids of live objects."""

    client: GwsRestClient
    sim: SimulatorHandle
    device: str
    call: str
    interaction: str
    api: str


Run = Callable[[Ctx], Awaitable[Any]]


@pytest.fixture
async def ctx(simulator: SimulatorHandle) -> AsyncIterator[Ctx]:
    client = GwsRestClient(simulator.base_url, AGENT, simulator.password, timeout=5.0)
    try:
        await client.login()
        await ops.start_contact_center_session(client, ["voice"])
        (device,) = await ops.get_devices(client)
        call = await simulator.start_call(AGENT)
        interaction = await simulator.send_interaction(AGENT, "email")
        await simulator.log(clear=True)
        yield Ctx(client, simulator, device["id"], call, interaction, f"{simulator.base_url}/api/v2")
    finally:
        await client.aclose()


def _op(name: str, **params: Any) -> dict[str, Any]:
    return {"operationName": name, **params}


# (id, run, method, path, body, accept the interaction first); "{call}" etc. are filled from Ctx.
CASES: list[tuple[str, Run, str, str, dict[str, Any] | None, bool]] = [
    # agent state on the voice channel
    ("ready", lambda c: ops.ready(c.client), "POST", "/me/channels/voice", _op("Ready"), False),
    ("not_ready", lambda c: ops.not_ready(c.client), "POST", "/me/channels/voice", _op("NotReady"), False),
    (
        "custom_agent_state",
        lambda c: ops.agent_state_operation(c.client, "OutToLunch"),
        "POST",
        "/me/channels/voice",
        _op("OutToLunch"),
        False,
    ),
    (
        "after_call_work",
        lambda c: ops.after_call_work(c.client),
        "POST",
        "/me/channels/voice",
        _op("AfterCallWork"),
        False,
    ),
    ("aux_work", lambda c: ops.aux_work(c.client), "POST", "/me/channels/voice", _op("AuxWork"), False),
    ("offline", lambda c: ops.offline(c.client), "POST", "/me/channels/voice", _op("Offline"), False),
    (
        "custom_state",
        lambda c: ops.agent_state_operation(c.client, "Training"),
        "POST",
        "/me/channels/voice",
        _op("Training"),
        False,
    ),
    (
        "channel_state",
        lambda c: ops.channel_state(c.client, "email", "NotReady"),
        "POST",
        "/me/channels/email",
        _op("NotReady"),
        False,
    ),
    ("all_ready", lambda c: ops.all_channels_ready(c.client), "POST", "/me", _op("Ready"), False),
    ("all_not_ready", lambda c: ops.all_channels_not_ready(c.client), "POST", "/me", _op("NotReady"), False),
    ("dnd_on", lambda c: ops.dnd(c.client, True), "POST", "/me", _op("DoNotDisturbOn"), False),
    ("dnd_off", lambda c: ops.dnd(c.client, False), "POST", "/me", _op("DoNotDisturbOff"), False),
    (
        "dnd_device",
        lambda c: ops.dnd(c.client, True, device_id=c.device),
        "POST",
        "/me/devices/{device}",
        _op("DoNotDisturbOn"),
        False,
    ),
    # dispositions
    (
        "set_call_disposition",
        lambda c: ops.set_call_disposition(c.client, c.call, "IssueResolved"),
        "POST",
        "/me/calls/{call}",
        _op(
            "SetCallDisposition",
            callUri="{api}/me/calls/{call}",
            disposition="IssueResolved",
            dispositionKey="DispositionCode",
        ),
        False,
    ),
    (
        "set_call_disposition_on_device",
        lambda c: ops.set_call_disposition(c.client, c.call, "Sale", key=None, device_id=c.device),
        "POST",
        "/me/devices/{device}",
        _op("SetCallDisposition", callUri="{api}/me/calls/{call}", disposition="Sale"),
        False,
    ),
    # calls
    ("answer", lambda c: ops.answer(c.client, c.call), "POST", "/me/calls/{call}", _op("Answer"), False),
    (
        "reject_call",
        lambda c: ops.reject_call(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("Reject"),
        False,
    ),
    ("hangup", lambda c: ops.hangup(c.client, c.call), "POST", "/me/calls/{call}", _op("Hangup"), False),
    ("hold", lambda c: ops.hold(c.client, c.call), "POST", "/me/calls/{call}", _op("Hold"), False),
    (
        "retrieve",
        lambda c: ops.retrieve(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("Retrieve"),
        False,
    ),
    ("mute", lambda c: ops.mute_call(c.client, c.call), "POST", "/me/calls/{call}", _op("MuteCall"), False),
    (
        "unmute",
        lambda c: ops.unmute_call(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("UnmuteCall"),
        False,
    ),
    (
        "dial",
        lambda c: ops.dial(c.client, c.device, "5002", {"CustomerSegment": "Gold"}),
        "POST",
        "/me/devices/{device}/calls",
        _op("Dial", destination={"phoneNumber": "5002"}, userData={"CustomerSegment": "Gold"}),
        False,
    ),
    (
        "send_dtmf",
        lambda c: ops.send_dtmf(c.client, c.call, "1234"),
        "POST",
        "/me/calls/{call}",
        _op("SendDtmf", digits="1234"),
        False,
    ),
    (
        "attach_user_data",
        lambda c: ops.attach_user_data(c.client, c.call, {"Colors": "Blue"}),
        "POST",
        "/me/calls/{call}",
        _op("AttachUserData", userData={"Colors": "Blue"}),
        False,
    ),
    (
        "update_user_data",
        lambda c: ops.update_user_data(c.client, c.call, {"A": "1", "B": 2}),
        "POST",
        "/me/calls/{call}",
        _op("UpdateUserData", userData={"A": "1", "B": 2}),
        False,
    ),
    (
        "delete_user_data",
        lambda c: ops.delete_user_data(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("DeleteUserData"),
        False,
    ),
    (
        "delete_user_data_pair",
        lambda c: ops.delete_user_data_pair(c.client, c.call, "A"),
        "POST",
        "/me/calls/{call}",
        _op("DeleteUserDataPair", key="A"),
        False,
    ),
    (
        "single_step_transfer",
        lambda c: ops.single_step_transfer(c.client, c.call, "5002"),
        "POST",
        "/me/calls/{call}",
        _op("SingleStepTransfer", destination={"phoneNumber": "5002"}),
        False,
    ),
    (
        "initiate_transfer",
        lambda c: ops.initiate_transfer(c.client, c.call, "5002", {"TransferReason": "x"}),
        "POST",
        "/me/calls/{call}",
        _op("InitiateTransfer", destination={"phoneNumber": "5002"}, userData={"TransferReason": "x"}),
        False,
    ),
    (
        "complete_transfer",
        lambda c: ops.complete_transfer(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("CompleteTransfer"),
        False,
    ),
    (
        "complete_transfer_consult",
        lambda c: ops.complete_transfer(c.client, c.call, consult_call_id="consult1"),
        "POST",
        "/me/calls/{call}",
        _op("CompleteTransfer", consultCallUri="{api}/me/calls/consult1"),
        False,
    ),
    (
        "single_step_conference",
        lambda c: ops.single_step_conference(c.client, c.call, "5003"),
        "POST",
        "/me/calls/{call}",
        _op("SingleStepConference", destination={"phoneNumber": "5003"}),
        False,
    ),
    (
        "initiate_conference",
        lambda c: ops.initiate_conference(c.client, c.call, "5003"),
        "POST",
        "/me/calls/{call}",
        _op("InitiateConference", destination={"phoneNumber": "5003"}),
        False,
    ),
    (
        "complete_conference",
        lambda c: ops.complete_conference(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("CompleteConference"),
        False,
    ),
    (
        "swap_calls",
        lambda c: ops.swap_calls(c.client, c.call, "other1"),
        "POST",
        "/me/calls/{call}",
        _op("SwapCalls", otherCallUri="{api}/me/calls/other1"),
        False,
    ),
    (
        "start_recording",
        lambda c: ops.start_recording(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("StartCallRecording"),
        False,
    ),
    (
        "stop_recording",
        lambda c: ops.stop_recording(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("StopCallRecording"),
        False,
    ),
    (
        "pause_recording",
        lambda c: ops.pause_recording(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("PauseCallRecording"),
        False,
    ),
    (
        "resume_recording",
        lambda c: ops.resume_recording(c.client, c.call),
        "POST",
        "/me/calls/{call}",
        _op("ResumeCallRecording"),
        False,
    ),
    (
        "forward_on",
        lambda c: ops.forward_calls_on(c.client, c.device, "5009"),
        "POST",
        "/me/devices/{device}",
        _op("ForwardCallsOn", destination="5009"),
        False,
    ),
    (
        "forward_off",
        lambda c: ops.forward_calls_off(c.client, c.device),
        "POST",
        "/me/devices/{device}",
        _op("ForwardCallsOff"),
        False,
    ),
    # interactions
    (
        "accept",
        lambda c: ops.accept_interaction(c.client, c.interaction),
        "POST",
        "/me/interactions/{interaction}",
        _op("Accept"),
        False,
    ),
    (
        "reject",
        lambda c: ops.reject_interaction(c.client, c.interaction),
        "POST",
        "/me/interactions/{interaction}",
        _op("Reject"),
        False,
    ),
    (
        "complete",
        lambda c: ops.complete_interaction(c.client, c.interaction),
        "POST",
        "/me/interactions/{interaction}",
        _op("Complete"),
        True,
    ),
    (
        "place_in_queue",
        lambda c: ops.place_in_queue(c.client, c.interaction, "EmailInQueue"),
        "POST",
        "/me/interactions/{interaction}",
        _op("PlaceInQueue", queueName="EmailInQueue"),
        True,
    ),
    (
        "place_in_workbin",
        lambda c: ops.place_in_workbin(c.client, c.interaction, "TestWorkbin"),
        "POST",
        "/me/interactions/{interaction}",
        _op("PlaceInWorkbin", workbin="TestWorkbin"),
        True,
    ),
    (
        "transfer",
        lambda c: ops.transfer_interaction(c.client, c.interaction, "agent0002"),
        "POST",
        "/me/interactions/{interaction}",
        _op("Transfer", userId="agent0002"),
        True,
    ),
    (
        "update_interaction_data",
        lambda c: ops.update_interaction_data(c.client, c.interaction, {"Case": "7"}),
        "POST",
        "/me/interactions/{interaction}",
        _op("UpdateUserData", userData={"Case": "7"}),
        True,
    ),
    # workbins (§12)
    ("get_workbins", lambda c: ops.get_workbins(c.client), "GET", "/me/workbins", None, False),
    (
        "get_workbin_content",
        lambda c: ops.get_workbin_content(c.client, "TestWorkbin"),
        "GET",
        "/me/workbins/TestWorkbin/interactions",
        None,
        False,
    ),
    (
        "subscribe_workbin",
        lambda c: ops.subscribe_workbin(c.client, "TestWorkbin"),
        "POST",
        "/me/workbins/TestWorkbin",
        _op("Subscribe"),
        False,
    ),
    (
        "unsubscribe_workbin",
        lambda c: ops.unsubscribe_workbin(c.client, "TestWorkbin"),
        "POST",
        "/me/workbins/TestWorkbin",
        _op("Unsubscribe"),
        False,
    ),
    # session
    (
        "start_session",
        lambda c: ops.start_contact_center_session(c.client, ["voice"], place="SIP_5001", login_code="8000"),
        "POST",
        "/me",
        _op("StartContactCenterSession", channels=["voice"], place="SIP_5001", loginCode="8000"),
        False,
    ),
    (
        "end_session",
        lambda c: ops.end_contact_center_session(c.client),
        "POST",
        "/me",
        _op("EndContactCenterSession"),
        False,
    ),
    # reads
    ("get_me", lambda c: ops.get_me(c.client), "GET", "/me", None, False),
    ("get_calls", lambda c: ops.get_calls(c.client), "GET", "/me/calls", None, False),
    ("get_interactions", lambda c: ops.get_interactions(c.client), "GET", "/me/interactions", None, False),
    ("get_devices", lambda c: ops.get_devices(c.client), "GET", "/me/devices", None, False),
    (
        "get_agent_states",
        lambda c: ops.get_agent_states(c.client),
        "GET",
        "/settings/agent-states",
        None,
        False,
    ),
    (
        "get_dispositions",
        lambda c: ops.get_dispositions(c.client),
        "GET",
        "/settings/dispositions",
        None,
        False,
    ),
    ("get_voice_settings", lambda c: ops.get_voice_settings(c.client), "GET", "/settings/voice", None, False),
    (
        "get_disposition_groups",
        lambda c: ops.get_disposition_groups(c.client, "dispositions"),
        "GET",
        "/groups/dispositions",
        None,
        False,
    ),
]

QUERIES = {
    "get_me": "subresources=*",
    "get_calls": "fields=*",
    "get_interactions": "fields=*",
    "get_devices": "fields=*",
    "get_disposition_groups": "subresources=**",
    "get_workbin_content": "fields=*",
}


def _fill(value: Any, c: Ctx) -> Any:
    if isinstance(value, str):
        return value.format(call=c.call, device=c.device, interaction=c.interaction, api=c.api)
    if isinstance(value, dict):
        return {key: _fill(item, c) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, c) for item in value]
    return value


@pytest.mark.parametrize(("run", "method", "path", "body", "accept_first"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])  # fmt: skip
async def test_operation_reaches_gws_as_documented(
    ctx: Ctx, run: Run, method: str, path: str, body: dict[str, Any] | None, accept_first: bool, request: Any
) -> None:
    if accept_first:
        await ops.accept_interaction(ctx.client, ctx.interaction)
        await ctx.sim.log(clear=True)
    result = await run(ctx)
    entries = await ctx.sim.log(agent=AGENT)
    assert [(e["method"], e["path"]) for e in entries] == [(method, "/api/v2" + _fill(path, ctx))]
    (entry,) = entries
    assert entry["body"] == _fill(body, ctx)
    case_id = request.node.callspec.id
    assert entry["query"] == QUERIES.get(case_id, "")
    if method == "POST" and case_id != "dial":
        assert isinstance(result, dict)
        assert result.get("statusCode", 0) == 0 and result.get("status", "ok") in ("ok", 0)


def test_every_public_operation_has_a_case() -> None:
    covered = {case[0] for case in CASES}
    names = {
        "ready",
        "not_ready",
        "after_call_work",
        "aux_work",
        "offline",
        "agent_state_operation",
        "channel_state",
        "all_channels_ready",
        "all_channels_not_ready",
        "dnd",
        "set_call_disposition",
        "get_dispositions",
        "get_disposition_groups",
        "answer",
        "reject_call",
        "hangup",
        "hold",
        "retrieve",
        "mute_call",
        "unmute_call",
        "dial",
        "send_dtmf",
        "attach_user_data",
        "update_user_data",
        "delete_user_data",
        "delete_user_data_pair",
        "single_step_transfer",
        "initiate_transfer",
        "complete_transfer",
        "single_step_conference",
        "initiate_conference",
        "complete_conference",
        "swap_calls",
        "start_recording",
        "stop_recording",
        "pause_recording",
        "resume_recording",
        "forward_calls_on",
        "forward_calls_off",
        "accept_interaction",
        "reject_interaction",
        "complete_interaction",
        "place_in_queue",
        "place_in_workbin",
        "transfer_interaction",
        "update_interaction_data",
        "pull_from_workbin",
        "get_agent_states",
        "get_voice_settings",
        "start_contact_center_session",
        "end_contact_center_session",
        "get_me",
        "get_calls",
        "get_interactions",
        "get_devices",
        "get_workbins",
        "get_workbin_content",
        "subscribe_workbin",
        "unsubscribe_workbin",
    }
    generic = {"call_operation", "interaction_operation"}
    assert set(ops.__all__) == names | generic
    assert len(covered) == len(CASES)


async def test_pull_from_workbin_takes_the_parked_interaction_back(ctx: Ctx) -> None:
    await ops.accept_interaction(ctx.client, ctx.interaction)
    await ops.place_in_workbin(ctx.client, ctx.interaction, "TestWorkbin")
    assert ctx.interaction not in {i.get("id") for i in await ops.get_interactions(ctx.client)}
    await ctx.sim.log(clear=True)
    reply = await ops.pull_from_workbin(ctx.client, "TestWorkbin", ctx.interaction)
    assert reply == {"status": 0}
    (entry,) = await ctx.sim.log(agent=AGENT)
    assert (entry["method"], entry["path"]) == ("POST", "/api/v2/me/interactions")
    assert entry["body"] == _op(
        "PullInteractionFromWorkbin", uri=f"{ctx.api}/me/workbins/TestWorkbin/interactions/{ctx.interaction}"
    )
    assert ctx.interaction in {i.get("id") for i in await ops.get_interactions(ctx.client)}


async def test_reads_return_the_resources(ctx: Ctx) -> None:
    me = await ops.get_me(ctx.client)
    assert me["userName"] == AGENT
    assert me["devices"][0]["id"] == ctx.device
    calls = await ops.get_calls(ctx.client)
    assert [call["id"] for call in calls] == [ctx.call]
    assert calls[0]["state"] == "Ringing"
    interactions = await ops.get_interactions(ctx.client)
    assert [i["id"] for i in interactions] == [ctx.interaction]
    states = await ops.get_agent_states(ctx.client)
    assert {"Ready", "NotReady", "AfterCallWork"} <= {s["operationName"] for s in states}
    dispositions = await ops.get_dispositions(ctx.client)
    assert all("name" in item for item in dispositions) and dispositions
    voice = await ops.get_voice_settings(ctx.client)
    assert {"toast-filter", "case-filter"} <= {s["name"] for s in voice}
    tree = await ops.get_disposition_groups(ctx.client, "dispositions")
    assert tree["dispositions"] and tree["groups"][0]["name"]


async def test_call_flow_changes_state_in_gws(ctx: Ctx) -> None:
    await ops.answer(ctx.client, ctx.call)
    await ops.hold(ctx.client, ctx.call)
    (call,) = await ops.get_calls(ctx.client)
    assert call["state"] == "Held"
    await ops.retrieve(ctx.client, ctx.call)
    await ops.set_call_disposition(ctx.client, ctx.call, "IssueResolved")
    (call,) = await ops.get_calls(ctx.client)
    assert call["state"] == "Established"
    assert call["userData"]["DispositionCode"] == "IssueResolved"
    await ops.hangup(ctx.client, ctx.call)
    states = {c["id"]: c["state"] for c in await ops.get_calls(ctx.client)}
    assert states.get(ctx.call, "Released") == "Released"


async def test_agent_state_changes_in_gws(ctx: Ctx) -> None:
    # a reason is an agent-state definition (settings/agent-states), not a NotReady parameter
    await ops.agent_state_operation(ctx.client, "OutToLunch")
    (device,) = await ops.get_devices(ctx.client)
    assert device["userState"]["state"] == "NotReady"
    assert device["userState"].get("reason") == "OutToLunch"
    await ops.not_ready(ctx.client)
    (device,) = await ops.get_devices(ctx.client)
    assert device["userState"]["state"] == "NotReady"
    assert "reason" not in device["userState"]
    await ops.ready(ctx.client)
    (device,) = await ops.get_devices(ctx.client)
    assert device["userState"]["state"] == "Ready"
