"""Agent operations: agent state (voice channel, one channel, all channels), DND, forwarding,
the contact-center session and the password (catalogue §1-§3, §10)."""

from __future__ import annotations

import base64

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import (
    SYNC,
    GwsRequest,
    Operation,
    OutcomeRule,
    operation_body,
    segment,
)

__all__ = [
    "after_call_work",
    "all_channels_state",
    "aux_work",
    "change_password",
    "channel_dnd",
    "channel_state",
    "device_dnd",
    "end_contact_center_session",
    "forward_calls_off",
    "forward_calls_on",
    "me_dnd",
    "not_ready",
    "offline",
    "ready",
    "start_contact_center_session",
    "voice_agent_state",
]

_DEVICE_STATE = "/v2/me/devices DeviceStateChangeMessage"


def _voice(operation_name: str, state: str, work_mode: str | None = None, **params: object) -> Operation:
    request = GwsRequest("POST", "/me/channels/voice", operation_body(operation_name, **params))
    return Operation(request, OutcomeRule(user_state=state, work_mode=work_mode, device_errors=True))


# -- voice channel agent state (8.5.2 §2.3) ---------------------------------------------------------


@operation(
    "voice.<AgentState>",
    "POST",
    "/me/channels/voice",
    name=None,
    confirms=f"{_DEVICE_STATE}: devices[].userState of the definition",
    source="002:1487-1542",
)
def voice_agent_state(
    operation_name: str, state: str, work_mode: str | None = None, **params: object
) -> Operation:
    """Any agent-state operation of ``settings/agent-states`` (system or custom, e.g. ``Training``);
    ``state`` / ``work_mode`` are what the device's ``userState`` becomes (``LoggedOut`` for Offline)."""
    return _voice(operation_name, state, work_mode, **params)


@operation(
    "voice.Ready",
    "POST",
    "/me/channels/voice",
    confirms=f"{_DEVICE_STATE}: userState Ready",
    source="002:8807-8882",
)
def ready() -> Operation:
    return _voice("Ready", "Ready")


@operation(
    "voice.NotReady",
    "POST",
    "/me/channels/voice",
    confirms=f"{_DEVICE_STATE}: userState NotReady",
    source="002:8884-8960",
)
def not_ready() -> Operation:
    """NotReady takes no parameter (a reason is an agent-state definition: :func:`voice_agent_state`)."""
    return _voice("NotReady", "NotReady")


@operation(
    "voice.AfterCallWork",
    "POST",
    "/me/channels/voice",
    confirms=f"{_DEVICE_STATE}: NotReady, workMode AfterCallWork",
    source="002:9036-9121",
)
def after_call_work() -> Operation:
    return _voice("AfterCallWork", "NotReady", "AfterCallWork")


@operation(
    "voice.AuxWork",
    "POST",
    "/me/channels/voice",
    confirms=f"{_DEVICE_STATE}: NotReady, workMode AuxWork",
    source="002:8962-9034",
)
def aux_work() -> Operation:
    return _voice("AuxWork", "NotReady", "AuxWork")


@operation(
    "voice.Offline",
    "POST",
    "/me/channels/voice",
    confirms=f"{_DEVICE_STATE}: userState LoggedOut",
    source="002:9123-9203",
)
def offline() -> Operation:
    return _voice("Offline", "LoggedOut")


# -- one channel, all channels (8.5.1 Channels API) -----------------------------------------------


@operation(
    "channel.<AgentState>",
    "POST",
    "/me/channels/{channel}",
    name=None,
    confirms="/v2/me/channels: channels[{channel}].userState",
    source="003:1813-1928",
)
def channel_state(channel: str, operation_name: str, state: str) -> Operation:
    """``Ready``, ``NotReady`` or an agent-state operation on one channel (``email``, ``chat``…);
    ``state`` is the ``userState.state`` the channel reports."""
    request = GwsRequest("POST", f"/me/channels/{segment(channel)}", operation_body(operation_name))
    return Operation(request, OutcomeRule(channel=channel, user_state=state, device_errors=True))


@operation(
    "me.<AllChannelsState>",
    "POST",
    "/me",
    name=None,
    confirms="the reply ({status: ok}); then /v2/me/channels and /v2/me/devices states",
    source="000:25-89; 003:1677-1741",
)
def all_channels_state(operation_name: str) -> Operation:
    """``Ready`` or ``NotReady`` on every channel at once (8.5.1, a synchronous ``{"status":"ok"}``)."""
    return Operation(GwsRequest("POST", "/me", operation_body(operation_name)), SYNC)


# -- do not disturb (§3) ----------------------------------------------------------------------------


def _dnd_name(on: bool) -> str:
    return "DoNotDisturbOn" if on else "DoNotDisturbOff"


@operation(
    "me.DoNotDisturb",
    "POST",
    "/me",
    name="DoNotDisturbOn/DoNotDisturbOff",
    confirms="/v2/me/channels dndState, or the device's doNotDisturb",
    source="000:91-155; 003:1743-1811",
)
def me_dnd(on: bool) -> Operation:
    """DND on every channel and device (overrides Ready)."""
    rule = OutcomeRule(dnd="On" if on else "Off", device_errors=True)
    return Operation(GwsRequest("POST", "/me", operation_body(_dnd_name(on))), rule)


@operation(
    "device.DoNotDisturb",
    "POST",
    "/me/devices/{device}",
    name="DoNotDisturbOn/DoNotDisturbOff",
    confirms=f"{_DEVICE_STATE}: doNotDisturb On/Off",
    source="002:9205-9350",
)
def device_dnd(device_id: str, on: bool) -> Operation:
    rule = OutcomeRule(dnd="On" if on else "Off", device_errors=True)
    return Operation(
        GwsRequest("POST", f"/me/devices/{segment(device_id)}", operation_body(_dnd_name(on))), rule
    )


@operation(
    "channel.DoNotDisturb",
    "POST",
    "/me/channels/{channel}",
    name="DoNotDisturbOn/DoNotDisturbOff",
    confirms="/v2/me/channels: channels[{channel}].dndState",
    source="003:4665-4666",
)
def channel_dnd(channel: str, on: bool) -> Operation:
    """DND on one channel (003 lists it in the asynchronous-operations table only)."""
    request = GwsRequest("POST", f"/me/channels/{segment(channel)}", operation_body(_dnd_name(on)))
    return Operation(request, OutcomeRule(dnd="On" if on else "Off", channel=channel, device_errors=True))


# -- call forwarding (§10) --------------------------------------------------------------------------


@operation(
    "device.ForwardCallsOn",
    "POST",
    "/me/devices/{device}",
    confirms=f"{_DEVICE_STATE}: forwardTo",
    source="002:5625-5719",
)
def forward_calls_on(device_id: str, destination: str) -> Operation:
    """``destination`` is a plain string (not ``{"phoneNumber": …}``, 002:5625)."""
    body = operation_body("ForwardCallsOn", destination=destination)
    rule = OutcomeRule(device_attribute=("forwardTo", destination), device_errors=True)
    return Operation(GwsRequest("POST", f"/me/devices/{segment(device_id)}", body), rule)


@operation(
    "device.ForwardCallsOff",
    "POST",
    "/me/devices/{device}",
    confirms=f"{_DEVICE_STATE}: forwardTo gone",
    source="002:5721-5810",
)
def forward_calls_off(device_id: str) -> Operation:
    """No destination (the seed's sample body is a copy of ForwardCallsOn's)."""
    rule = OutcomeRule(device_attribute=("forwardTo", None), device_errors=True)
    return Operation(
        GwsRequest("POST", f"/me/devices/{segment(device_id)}", operation_body("ForwardCallsOff")), rule
    )


# -- session and password (§1) ----------------------------------------------------------------------


@operation(
    "me.StartContactCenterSession",
    "POST",
    "/me",
    confirms="the reply; a DeviceStateChangeMessage if the agent got logged in",
    source="002:10229-10309",
)
def start_contact_center_session(
    channels: list[str], *, place: str | None = None, login_code: str | None = None, queue: str | None = None
) -> Operation:
    body = operation_body(
        "StartContactCenterSession", channels=list(channels), place=place, loginCode=login_code, queue=queue
    )
    return Operation(GwsRequest("POST", "/me", body), SYNC)


@operation(
    "me.EndContactCenterSession",
    "POST",
    "/me",
    confirms="the reply (GWS sends no notification)",
    source="002:10311-10354",
)
def end_contact_center_session() -> Operation:
    """GWS then invalidates the HTTP session (the client forgets its cookie and CSRF token)."""
    return Operation(GwsRequest("POST", "/me", operation_body("EndContactCenterSession")), SYNC)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


@operation(
    "me.ChangePassword",
    "POST",
    "/me",
    confirms="/v2/me notificationType PasswordChangeSuccessful / PasswordChangeError",
    source="003:4542-4598",
)
def change_password(old_password: str, new_password: str, *, first_login: bool = False) -> Operation:
    """Both passwords are sent base64-encoded, as GWS wants; ``first_login`` is the query flag.

    The reply only says GWS accepted the request; the verdict comes on ``/v2/me``."""
    body = operation_body("ChangePassword", oldPassword=_b64(old_password), newPassword=_b64(new_password))
    params = {"firstLogin": "true"} if first_login else None
    return Operation(GwsRequest("POST", "/me", body, params), OutcomeRule(password_change=True))
