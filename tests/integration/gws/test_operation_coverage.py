"""The simulator answers every operation in the operation table (``OPERATIONS``) with success.

One case per table entry: each gets a fresh simulator in the state the operation needs (a
ringing or established call, an accepted e-mail or chat, a second agent to monitor, a parked
workbin item), builds its request with the table's own builder, sends it with
``GwsRestClient.perform`` and checks GWS's success shape (HTTP 2xx and ``statusCode`` 0).
An entry the simulator cannot be asked for is listed in :data:`NOT_EXERCISED` with the reason;
:func:`test_every_operation_has_a_case_or_a_reason` fails on an entry with neither, so a new
operation cannot go untested silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bridge.gws import operations as ops
from bridge.gws.operations.builders import OPERATIONS
from bridge.gws.rest import GwsRestClient
from tests.plugins.simulator import SimulatorHandle

AGENT, OTHER = "agent0001", "agent0002"


@dataclass
class Ctx:
    """A signed-in agent with a voice session, and the live objects a case asked for."""

    client: GwsRestClient
    sim: SimulatorHandle
    device: str
    api: str
    ids: dict[str, str] = field(default_factory=dict)

    async def call(self, *, answered: bool = True) -> str:
        call = await self.sim.start_call(AGENT)
        if answered:
            await ops.answer(self.client, call)
        return call

    async def interaction(self, channel: str, *, accepted: bool = True) -> str:
        interaction = await self.sim.send_interaction(AGENT, channel)
        if accepted:
            await ops.accept_interaction(self.client, interaction)
        return interaction

    async def monitored_device(self) -> str:
        """A second agent's device, with a call to monitor; this agent made a supervisor."""
        self.sim.sim.state.users[AGENT].roles.append("ROLE_SUPERVISOR")  # as a users file would
        other = GwsRestClient(self.sim.base_url, OTHER, self.sim.password, timeout=5.0)
        try:
            await other.login()
            await ops.start_contact_center_session(other, ["voice"])
            (device,) = await ops.get_devices(other)
            call = await self.sim.start_call(OTHER)
            await ops.answer(other, call)
        finally:
            await other.aclose()
        return str(device["id"])


Kwargs = Callable[[Ctx], Awaitable[dict[str, Any]]]


def _none() -> Kwargs:
    async def build(_: Ctx) -> dict[str, Any]:
        return {}

    return build


def _on_call(*, answered: bool = True, **extra: Any) -> Kwargs:
    async def build(c: Ctx) -> dict[str, Any]:
        return {"call_id": await c.call(answered=answered), **_filled(c, extra)}

    return build


def _two_calls(*, consult: bool = False) -> Kwargs:
    """An established call and a second one (a consultation when ``consult``)."""

    async def build(c: Ctx) -> dict[str, Any]:
        first = await c.call()
        if consult:
            await ops.initiate_transfer(c.client, first, "5557000")
            calls = [x["id"] for x in await ops.get_calls(c.client) if x["id"] != first]
            return {"call_id": first, "consult_call_id": calls[0], "base_url": c.api}
        await ops.hold(c.client, first)
        second = await c.call()
        return {"call_id": first, "other_call_id": second, "base_url": c.api}

    return build


def _on_interaction(channel: str, *, accepted: bool = True, **extra: Any) -> Kwargs:
    async def build(c: Ctx) -> dict[str, Any]:
        return {"interaction_id": await c.interaction(channel, accepted=accepted), **_filled(c, extra)}

    return build


def _with_device(**extra: Any) -> Kwargs:
    async def build(c: Ctx) -> dict[str, Any]:
        return {"device_id": c.device, **_filled(c, extra)}

    return build


def _monitoring(**extra: Any) -> Kwargs:
    async def build(c: Ctx) -> dict[str, Any]:
        return {
            "device_id": c.device,
            "target_device_id": await c.monitored_device(),
            "base_url": c.api,
            **extra,
        }

    return build


def _filled(c: Ctx, extra: dict[str, Any]) -> dict[str, Any]:
    return {k: (c.api if v == "{api}" else v) for k, v in extra.items()}


async def _parked(c: Ctx) -> dict[str, Any]:
    interaction = await c.interaction("email")
    await ops.place_in_workbin(c.client, interaction, "TestWorkbin")
    return {"workbin_id": "TestWorkbin", "interaction_id": interaction, "base_url": c.api}


async def _to_add(c: Ctx) -> dict[str, Any]:
    return {"workbin_id": "TestWorkbin", "interaction_id": await c.interaction("email")}


async def _monitoring_started(c: Ctx) -> dict[str, Any]:
    target = await c.monitored_device()
    await c.client.perform(OPERATIONS["device.ListenIn"].build(c.device, target, base_url=c.api).request)
    return {"device_id": c.device}


async def _reply_draft(c: Ctx) -> dict[str, Any]:
    """The reply that ``Reply`` creates on an accepted e-mail: what ``Cancel`` abandons."""
    original = await c.interaction("email")
    await c.client.perform(OPERATIONS["email.Reply"].build(original).request)
    [reply] = [i["id"] for i in await ops.get_interactions(c.client) if i["id"] != original]
    return {"interaction_id": reply}


async def _attached(c: Ctx) -> dict[str, Any]:
    interaction = await c.interaction("email")
    add = OPERATIONS["interaction.AddAttachment"].build(interaction, "case.txt", b"case 42", "text/plain")
    reply = await c.client.perform(add.request)
    return {"interaction_id": interaction, "attachment_id": reply["documentId"]}


async def _disposition(c: Ctx) -> dict[str, Any]:
    return {"call_id": await c.call(), "disposition": "IssueResolved", "base_url": c.api}


async def _password(_: Ctx) -> dict[str, Any]:
    return {"old_password": "password", "new_password": "N3w-passw0rd!"}


#: table key -> the builder's arguments, after bringing the simulator into the state it needs
CASES: dict[str, Kwargs] = {
    "voice.<AgentState>": lambda c: _static({"operation_name": "OutToLunch", "state": "NotReady"}),
    "voice.Ready": _none(),
    "voice.NotReady": _none(),
    "voice.AfterCallWork": _none(),
    "voice.AuxWork": _none(),
    "voice.Offline": _none(),
    "channel.<AgentState>": lambda c: _static(
        {"channel": "email", "operation_name": "NotReady", "state": "NotReady"}
    ),
    "me.<AllChannelsState>": lambda c: _static({"operation_name": "Ready"}),
    "me.DoNotDisturb": lambda c: _static({"on": True}),
    "device.DoNotDisturb": _with_device(on=True),
    "channel.DoNotDisturb": lambda c: _static({"channel": "email", "on": True}),
    "device.ForwardCallsOn": _with_device(destination="5559000"),
    "device.ForwardCallsOff": _with_device(),
    "me.StartContactCenterSession": lambda c: _static({"channels": ["voice", "email", "chat"]}),
    "me.EndContactCenterSession": _none(),
    "me.ChangePassword": _password,
    "interaction.Accept": _on_interaction("email", accepted=False),
    "interaction.Reject": _on_interaction("email", accepted=False),
    "interaction.Cancel": _reply_draft,
    "interaction.Complete": _on_interaction("email"),
    "interaction.PlaceInQueue": _on_interaction("email", queue_name="Support"),
    "interaction.UpdateUserData": _on_interaction("email", user_data={"Case": "42"}),
    "interaction.AttachUserData": _on_interaction("email", user_data={"Case": "42"}),
    "interaction.DeleteUserData": _on_interaction("email", keys=["Case"]),
    "interaction.PlaceInWorkbin": _on_interaction("email", workbin="TestWorkbin"),
    "interaction.GetWorkbinContent": _on_interaction("email", workbin="TestWorkbin"),
    "interaction.Transfer": _on_interaction("email", user_id=OTHER),
    "interaction.AddAttachment": _on_interaction(
        "email", file_name="case.txt", content=b"case 42", mime_type="text/plain"
    ),
    "interaction.DeleteAttachment": _attached,
    "email.Reply": _on_interaction("email"),
    "email.ReplyAll": _on_interaction("email"),
    "email.Send": _on_interaction("email", email={"subject": "Re: Hello", "body": "Done."}),
    "email.Create": lambda c: _static({"queue_name": "Support"}),
    "chat.SendMessage": _on_interaction("chat", text="How can I help?"),
    "chat.SendStartTypingNotification": _on_interaction("chat"),
    "chat.SendStopTypingNotification": _on_interaction("chat"),
    "chat.InviteUser": _on_interaction("chat", agent_id=OTHER),
    "chat.LeaveConference": _on_interaction("chat", agent_id=AGENT),
    "chat.EndChatSession": _on_interaction("chat"),
    "chat.RequestChatHistory": _on_interaction("chat"),
    "device.ListenIn": _monitoring(),
    "device.Coach": _monitoring(),
    "device.BargeIn": _monitoring(),
    "device.CancelSupervisorMonitoring": _monitoring_started,
    "call.Answer": _on_call(answered=False),
    "call.Reject": _on_call(answered=False),
    "call.Hangup": _on_call(),
    "call.Hold": _on_call(),
    "call.Retrieve": _on_call(),
    "call.SendDtmf": _on_call(digits="1234"),
    "call.MuteCall": _on_call(),
    "call.UnmuteCall": _on_call(),
    "device.Dial": _with_device(destination="5557000"),
    "call.AttachUserData": _on_call(user_data={"Case": "42"}),
    "call.UpdateUserData": _on_call(user_data={"Case": "42"}),
    "call.DeleteUserData": _on_call(),
    "call.DeleteUserDataPair": _on_call(key="Case"),
    "call.SetCallDisposition": _disposition,
    "call.SingleStepTransfer": _on_call(destination="5557000"),
    "call.InitiateTransfer": _on_call(destination="5557000"),
    "call.CompleteTransfer": _two_calls(consult=True),
    "call.SingleStepConference": _on_call(destination="5557000"),
    "call.InitiateConference": _on_call(destination="5557000"),
    "call.CompleteConference": _two_calls(consult=True),
    "call.RemoveParticipantFromConference": _on_call(participant="5557000"),
    "call.SwapCalls": _two_calls(),
    "call.MergeWithOtherCall": _two_calls(),
    "call.StartCallRecording": _on_call(),
    "call.StopCallRecording": _on_call(),
    "call.PauseCallRecording": _on_call(),
    "call.ResumeCallRecording": _on_call(),
    "call.SwitchToBargeIn": _on_call(),
    "call.SwitchToListenIn": _on_call(),
    "call.MuteMonitoredUser": _on_call(),
    "call.UnmuteMonitoredUser": _on_call(),
    "workbins.GetWorkbinTypesInfo": _none(),
    "workbin.GetWorkbinContent": lambda c: _static({"workbin_id": "TestWorkbin"}),
    "workbin.AddInteractionToWorkbin": _to_add,
    "interactions.PullInteractionFromWorkbin": _parked,
    "workbin.Subscribe": lambda c: _static({"workbin_id": "TestWorkbin"}),
    "workbin.Unsubscribe": lambda c: _static({"workbin_id": "TestWorkbin"}),
}

#: table key -> why the simulator is not asked for it here (the reason is the test's output)
NOT_EXERCISED: dict[str, str] = {}


async def _static(kwargs: dict[str, Any]) -> dict[str, Any]:
    return kwargs


@pytest.fixture
async def ctx(simulator: SimulatorHandle) -> AsyncIterator[Ctx]:
    client = GwsRestClient(simulator.base_url, AGENT, simulator.password, timeout=5.0)
    try:
        await client.login()
        await ops.start_contact_center_session(client, ["voice", "email", "chat"])
        (device,) = await ops.get_devices(client)
        yield Ctx(client, simulator, str(device["id"]), f"{simulator.base_url}/api/v2")
    finally:
        await client.aclose()


def test_every_operation_has_a_case_or_a_reason() -> None:
    both = set(CASES) & set(NOT_EXERCISED)
    assert not both, f"both a case and a reason: {sorted(both)}"
    assert set(CASES) | set(NOT_EXERCISED) == set(OPERATIONS), (
        f"no case and no reason: {sorted(set(OPERATIONS) - set(CASES) - set(NOT_EXERCISED))}; "
        f"not in the table: {sorted((set(CASES) | set(NOT_EXERCISED)) - set(OPERATIONS))}"
    )
    assert all(len(reason) > 20 for reason in NOT_EXERCISED.values())


@pytest.mark.parametrize("key", sorted(CASES))
async def test_the_simulator_answers_the_operation_with_success(ctx: Ctx, key: str) -> None:
    spec = OPERATIONS[key]
    kwargs = await CASES[key](ctx)
    request, _ = spec.build(**kwargs)
    assert request.method == spec.method
    await ctx.sim.log(clear=True)
    reply = await ctx.client.perform(request)  # raises on an HTTP error or a GWS failure
    assert isinstance(reply, dict) and reply.get("statusCode", 0) == 0, reply
    [entry] = [e for e in await ctx.sim.log(agent=AGENT) if e["path"].startswith("/api/v2")]
    assert (entry["method"], entry["path"]) == (spec.method, f"/api/v2{request.path}")
