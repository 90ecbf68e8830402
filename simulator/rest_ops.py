"""GWS REST operations (``POST /api/v2/...`` with ``operationName``), each with its seed envelope.

| resource | envelope |
|---|---|
| ``/me`` Ready, NotReady, DoNotDisturbOn/Off | ``{"status":"ok"}`` (seeds 000, 003) |
| ``/me`` Start/EndContactCenterSession, ChangePassword | ``{"statusCode":0}`` |
| ``/me/channels/voice``, ``/me/devices/{id}[/calls]``, ``/me/calls/{id}`` | ``{"statusCode":0}`` |
| ``/me/channels/{email,chat}`` | ``{"status":"ok"}`` |
| ``/me/interactions/{id}`` | per operation (:data:`simulator.media.ENVELOPES`) |
| workbins, interaction Cancel, PullInteractionFromWorkbin | ``{"status":0}`` |
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from simulator.auth import ALL_WORKBINS, SESSION_KEY, user_of
from simulator.call_ops import perform_call_operation, set_disposition
from simulator.envelopes import Envelope, OperationError, failure_body, success_body
from simulator.node import sim_of
from simulator.op_params import require, require_destination
from simulator.replies import json_response

__all__ = [
    "post_call",
    "post_channel",
    "post_device",
    "post_device_calls",
    "post_interaction",
    "post_interactions",
    "post_me",
    "post_workbin_interaction",
    "post_workbin_subscription",
]

_VOICE_DOWN = OperationError(4, "Voice service is not available at this time", http_status=503)
_MEDIA_DOWN = OperationError(4, "Media service is not available at this time", http_status=503)
_ALL_CHANNEL_STATES = {"Ready", "NotReady"}


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise OperationError(1, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise OperationError(1, "Request body must be a JSON object")
    return body


def _reply(envelope: Envelope, **extra: Any) -> web.Response:
    return json_response(success_body(envelope, **extra))


def _fail(envelope: Envelope, error: OperationError) -> web.Response:
    return json_response(failure_body(envelope, error), error.http_status)


def _check_voice(request: web.Request) -> None:
    if not sim_of(request).service_available("Voice"):
        raise _VOICE_DOWN


# -- /me ----------------------------------------------------------------------------------------


async def post_me(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    envelope = Envelope.S0
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        if name in _ALL_CHANNEL_STATES or name in ("DoNotDisturbOn", "DoNotDisturbOff"):
            envelope = Envelope.OK
            _check_voice(request)
            if name.startswith("DoNotDisturb"):
                sim.agents.set_dnd(user, name == "DoNotDisturbOn")
            else:
                sim.agents.set_all_channels(user, name)
        elif name == "StartContactCenterSession":
            channels = require(body, "channels")
            if not isinstance(channels, list):
                raise OperationError(1, "Parameter 'channels' must be an array")
            _check_voice(request)
            sim.agents.start_session(user)
        elif name == "EndContactCenterSession":
            sim.agents.end_session(user)
            sim.sessions.invalidate(request[SESSION_KEY].id)
        elif name == "ChangePassword":
            sim.agents.change_password(user, body)
        else:
            raise OperationError(2, f"Operation '{name}' is not supported on /me")
    except OperationError as error:
        return _fail(envelope, error)
    return _reply(envelope)


# -- channels -----------------------------------------------------------------------------------


async def post_channel(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    channel = request.match_info["channel"]
    envelope = Envelope.S0 if channel == "voice" else Envelope.OK
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        if channel == "voice":
            _check_voice(request)
            if name.startswith("DoNotDisturb"):
                sim.agents.set_dnd(user, name == "DoNotDisturbOn", channels=False)
            else:
                sim.agents.set_voice_state(user, sim.agents.resolve_state(name))
        elif channel not in user.channels:
            raise OperationError(6, f"Channel '{channel}' not found")
        elif name.startswith("DoNotDisturb"):
            sim.agents.set_channel_dnd(user, channel, name == "DoNotDisturbOn")
        else:
            sim.agents.set_channel_state(user, channel, sim.agents.resolve_state(name))
    except OperationError as error:
        return _fail(envelope, error)
    return _reply(envelope)


# -- devices and calls --------------------------------------------------------------------------


async def post_device(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        _check_voice(request)
        if request.match_info["device_id"] != user.device.id:
            raise OperationError(6, f"Device {request.match_info['device_id']} not found")
        if name in ("DoNotDisturbOn", "DoNotDisturbOff"):
            sim.agents.set_dnd(user, name == "DoNotDisturbOn", channels=False)
        elif name == "ForwardCallsOn":
            destination = require(body, "destination")
            if isinstance(destination, dict):
                destination = require_destination(body)
            sim.agents.forward(user, str(destination))
        elif name == "ForwardCallsOff":
            sim.agents.forward(user, None)
        elif name in ("ListenIn", "Coach", "BargeIn", "CancelSupervisorMonitoring"):
            # Only a supervisor's device offers these capabilities (002:9363; 003:3916).
            if "ROLE_SUPERVISOR" not in user.roles:
                raise OperationError(5, f"No permission: {name} needs the supervisor role")
            if name == "CancelSupervisorMonitoring":
                sim.agents.cancel_monitoring(user)
            else:
                sim.agents.monitor(user, name, body)
        elif name == "SetCallDisposition":
            key = body.get("callUri") or body.get("callUuid")
            if not key:
                raise OperationError(1, "Required parameter 'callUri' is missing")
            sim.voice.calls_of(user)
            call = next((c for c in user.calls.values() if c.call_uuid == key), None)
            set_disposition(sim.voice, call or sim.voice.find_call(user, str(key)), body)
        elif name == "Dial":
            sim.voice.dial(user, require_destination(body), body.get("userData"))
        else:
            sim.agents.set_voice_state(user, sim.agents.resolve_state(name))
    except OperationError as error:
        return _fail(Envelope.S0, error)
    return _reply(Envelope.S0)


async def post_device_calls(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        _check_voice(request)
        if request.match_info["device_id"] != user.device.id:
            raise OperationError(6, f"Device {request.match_info['device_id']} not found")
        if name != "Dial":
            raise OperationError(2, f"Operation '{name}' is not supported on device calls")
        user_data = body.get("userData")
        if user_data is not None and not isinstance(user_data, dict):
            raise OperationError(1, "Parameter 'userData' must be an object")
        sim.voice.dial(user, require_destination(body), user_data)
    except OperationError as error:
        return _fail(Envelope.S0, error)
    return _reply(Envelope.S0)


async def post_call(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    try:
        body = await _body(request)
        _check_voice(request)
        sim.voice.calls_of(user)  # expire old Released calls first
        call = sim.voice.find_call(user, request.match_info["call_id"])
        perform_call_operation(sim.voice, user, call, body)
    except OperationError as error:
        return _fail(Envelope.S0, error)
    return _reply(Envelope.S0)


# -- interactions and workbins ------------------------------------------------------------------


def _check_media(request: web.Request) -> None:
    if not sim_of(request).service_available("Media"):
        raise _MEDIA_DOWN


async def post_interaction(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    envelope = Envelope.OK
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        interaction = user.interactions.get(request.match_info["interaction_id"])
        envelope = sim.media.envelope_for(name, interaction)
        _check_media(request)
        if interaction is None:
            raise OperationError(6, f"Interaction {request.match_info['interaction_id']} not found")
        extra = sim.media.perform(user, interaction, body)
    except OperationError as error:
        return _fail(envelope, error)
    return _reply(envelope, **extra)


async def post_interactions(request: web.Request) -> web.Response:
    """``Create`` (new outbound e-mail, OK) or ``PullInteractionFromWorkbin`` (N0) on /me/interactions."""
    sim, user = sim_of(request), user_of(request)
    envelope = Envelope.OK
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        envelope = sim.media.envelope_for(name, None)
        _check_media(request)
        if name == "Create":
            sim.media.create(user, body)
        elif name in ("PullInteractionFromWorkbin", "PullInteraction"):
            envelope = Envelope.N0
            sim.media.workbins.pull(user, str(require(body, "uri")))
        else:
            raise OperationError(2, f"Operation '{name}' is not supported on /me/interactions")
    except OperationError as error:
        return _fail(envelope, error)
    return _reply(envelope)


async def post_workbin_interaction(request: web.Request) -> web.Response:
    """AddInteractionToWorkbin: ``{"interactionId"}`` → ``{"status":0,"uri":…}``."""
    sim, user = sim_of(request), user_of(request)
    try:
        body = await _body(request)
        _check_media(request)
        workbin = sim.media.workbins.find(user, request.match_info["workbin_id"])
        interaction = sim.media.find(user, str(require(body, "interactionId")))
        uri = sim.media.workbins.place(user, workbin, interaction)
    except OperationError as error:
        return _fail(Envelope.N0, error)
    return _reply(Envelope.N0, uri=uri)


async def post_workbin_subscription(request: web.Request) -> web.Response:
    """Subscribe / Unsubscribe to workbin events, for this HTTP session (the seeds give no URI:
    ``/me/workbins/{id}`` is one workbin, ``/me/workbins`` all of the agent's)."""
    sim, user = sim_of(request), user_of(request)
    subscriptions = request[SESSION_KEY].workbins
    try:
        body = await _body(request)
        name = str(require(body, "operationName"))
        key = ALL_WORKBINS
        if "workbin_id" in request.match_info:
            key = sim.media.workbins.find(user, request.match_info["workbin_id"]).workbin_id
        if name in ("Subscribe", "SubscribeWorkbinEvents"):
            subscriptions.add(key)
        elif name in ("Unsubscribe", "UnsubscribeWorkbinEvents"):
            if key == ALL_WORKBINS:
                subscriptions.clear()
            else:
                subscriptions.discard(key)
        else:
            raise OperationError(2, f"Operation '{name}' is not supported on workbins")
    except OperationError as error:
        return _fail(Envelope.N0, error)
    return _reply(Envelope.N0)
