"""GWS REST reads (``GET /api/v2/...``), the request log, and the route table.

Reply shapes follow the seed samples: ``{"statusCode":0, ...}`` for 8.5.2 resources, bare
8.5.1 payloads for ``/me/channels``, ``{"status":0, "workbins":[…]}`` for workbin types.
POST operations live in :mod:`simulator.rest_ops`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from simulator import rest_ops
from simulator.attachments import add_attachment_routes
from simulator.auth import USER_KEY, user_of
from simulator.defaults import AGENT_STATES, DISPOSITION_GROUP, DISPOSITIONS, VERSION
from simulator.envelopes import OperationError
from simulator.media_messages import interaction_json, workbin_content_json
from simulator.model import User
from simulator.node import Simulator, sim_of
from simulator.replies import error_response, json_response

__all__ = ["add_rest_routes", "request_log_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _wants_fields(request: web.Request) -> bool:
    return bool(request.query.get("fields"))


def request_log_middleware(sim: Simulator) -> Any:
    """Record every ``/api`` request but CometD's (agent, method, path, body) for ``GET /sim/log``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith("/api/") and not sim.bayeux.serves(path):
            body: Any = None
            if request.can_read_body:
                raw = await request.read()
                try:
                    body = orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
            user = request.get(USER_KEY)
            sim.log_request(user.user_name if user is not None else None, request.method, path,
                            request.query_string, body)  # fmt: skip
        return await handler(request)

    return middleware


# -- session and user ---------------------------------------------------------------------------


async def get_version(request: web.Request) -> web.Response:
    return json_response({"statusCode": 0, "version": VERSION})


def user_json(sim: Simulator, user: User, *, subresources: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "uri": sim.builder.user_uri(user),
        "userName": user.user_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "roles": list(user.roles),
        "enabled": True,
    }
    if subresources:
        now = time.monotonic()
        body["devices"] = [sim.builder.device_json(user)]
        body["skills"] = []
        body["settings"] = {"htcc": {"roles": "Agent"}}
        body["calls"] = [sim.voice.call_body(call, now) for call in sim.voice.calls_of(user)]
        body["channels"] = [sim.builder.channel_json(user, channel) for channel in user.channels]
        body["interactions"] = [interaction_json(i) for i in user.interactions.values()]
    body["changePasswordOnFirstLogin"] = False
    return body


async def get_me(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    subresources = bool(request.query.get("subresources"))
    return json_response({"statusCode": 0, "user": user_json(sim, user, subresources=subresources)})


# -- devices, calls, channels -------------------------------------------------------------------


async def get_devices(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    if _wants_fields(request):
        return json_response({"statusCode": 0, "devices": [sim.builder.device_json(user)]})
    return json_response({"statusCode": 0, "uris": [sim.builder.device_uri(user.device.id)]})


async def get_device(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    if request.match_info["device_id"] != user.device.id:
        return error_response(OperationError(6, f"Device {request.match_info['device_id']} not found"))
    return json_response({"statusCode": 0, "device": sim.builder.device_json(user)})


async def get_calls(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    calls = sim.voice.calls_of(user)
    if _wants_fields(request):
        now = time.monotonic()
        return json_response({"statusCode": 0, "calls": [sim.voice.call_body(call, now) for call in calls]})
    return json_response({"statusCode": 0, "uris": [sim.builder.call_uri(call.id) for call in calls]})


async def get_call(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    sim.voice.calls_of(user)  # expire old Released calls first
    try:
        call = sim.voice.find_call(user, request.match_info["call_id"])
    except OperationError as error:
        return error_response(error)
    return json_response({"statusCode": 0, "call": sim.voice.call_body(call)})


async def get_channels(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    return json_response({"channels": [sim.builder.channel_json(user, channel) for channel in user.channels]})


async def get_channel(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    channel = request.match_info["channel"]
    if channel == "voice":
        return json_response({"channel": {"channel": "voice", "userState": user.device.user_state.as_json()}})
    if channel not in user.channels:
        return error_response(OperationError(6, f"Channel {channel} not found"))
    return json_response({"channel": sim.builder.channel_json(user, channel)})


# -- interactions and workbins ------------------------------------------------------------------


async def get_interactions(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    items = list(user.interactions.values())
    if _wants_fields(request):
        return json_response({"statusCode": 0, "interactions": [interaction_json(i) for i in items]})
    return json_response({"statusCode": 0, "uris": [sim.builder.interaction_uri(i.id) for i in items]})


async def get_interaction(request: web.Request) -> web.Response:
    user = user_of(request)
    interaction = user.interactions.get(request.match_info["interaction_id"])
    if interaction is None:
        return error_response(
            OperationError(6, f"Interaction {request.match_info['interaction_id']} not found")
        )
    return json_response({"statusCode": 0, "interaction": interaction_json(interaction)})


async def get_workbins(request: web.Request) -> web.Response:
    user = user_of(request)
    workbins = [
        {"workbinId": w.workbin_id, "active": 1, "workbinName": w.name, "viewName": f"{w.name}/PrivateView",
         "workbinType": 1}
        for w in user.workbins.values()
    ]  # fmt: skip
    return json_response({"status": 0, "workbins": workbins})


async def get_workbin_content(request: web.Request) -> web.Response:
    sim, user = sim_of(request), user_of(request)
    try:
        workbin = sim.media.workbins.find(user, request.match_info["workbin_id"])
    except OperationError as error:
        return error_response(error)
    items = [workbin_content_json(i, user, workbin.name) for i in workbin.interactions.values()]
    return json_response({"statusCode": 0, "interactions": items})


# -- settings and dispositions ------------------------------------------------------------------


async def get_settings_groups(request: web.Request) -> web.Response:
    api = sim_of(request).builder.api
    groups = [
        {"displayName": name, "name": name, "uri": f"{api}/settings/{name}"}
        for name in ("agent-states", "dispositions", "voice")
    ]
    return json_response({"settings": groups, "statusCode": 0})


async def get_agent_states(request: web.Request) -> web.Response:
    return json_response({"statusCode": 0, "settings": AGENT_STATES, "key": "operationName"})


async def get_dispositions(request: web.Request) -> web.Response:
    return json_response({"key": "name", "settings": DISPOSITIONS, "statusCode": 0})


async def get_voice_settings(request: web.Request) -> web.Response:
    filters = sim_of(request).config.voice_filters
    settings: list[dict[str, Any]] = [{"name": "defaultTelephonyNetworkType", "value": "Private"}]
    settings += [{"name": name, "value": value} for name, value in sorted(filters.items())]
    return json_response({"key": "name", "settings": settings, "statusCode": 0})


def _find_group(group_id: str) -> dict[str, Any] | None:
    stack = [DISPOSITION_GROUP]
    while stack:
        group = stack.pop()
        if group["id"] == group_id:
            return group
        stack.extend(group["groups"])
    return None


def _group_json(api: str, group: dict[str, Any], depth: int, parent: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group["id"],
        "uri": f"{api}/groups/{group['id']}",
        "name": group["name"],
        "contains": "dispositions",
    }
    if parent is not None:
        body["parentUri"] = f"{api}/groups/{parent['id']}"
    if depth > 0:
        body["groups"] = [_group_json(api, sub, depth - 1, group) for sub in group["groups"]]
        body["dispositions"] = list(group["dispositions"])
    return body


async def get_group(request: web.Request) -> web.Response:
    api = sim_of(request).builder.api
    group = _find_group(request.match_info["group_id"])
    if group is None:
        return error_response(OperationError(6, f"Group {request.match_info['group_id']} not found"))
    subresources = request.query.get("subresources", "")
    depth = 99 if subresources == "**" else 1 if subresources else 0
    return json_response(_group_json(api, group, depth, None))


async def get_group_dispositions(request: web.Request) -> web.Response:
    group = _find_group(request.match_info["group_id"])
    if group is None:
        return error_response(OperationError(6, f"Group {request.match_info['group_id']} not found"))
    return json_response({"dispositions": list(group["dispositions"])})


def add_rest_routes(app: web.Application) -> None:
    """Mount every GWS REST route on ``app``."""
    api = "/api/v2"
    get = app.router.add_get
    post = app.router.add_post
    get(f"{api}/diagnostics/version", get_version)
    get(f"{api}/me", get_me)
    post(f"{api}/me", rest_ops.post_me)
    get(f"{api}/me/devices", get_devices)
    get(f"{api}/me/devices/{{device_id}}", get_device)
    post(f"{api}/me/devices/{{device_id}}", rest_ops.post_device)
    post(f"{api}/me/devices/{{device_id}}/calls", rest_ops.post_device_calls)
    post(f"{api}/devices/{{device_id}}/calls", rest_ops.post_device_calls)
    get(f"{api}/me/calls", get_calls)
    get(f"{api}/me/calls/{{call_id}}", get_call)
    post(f"{api}/me/calls/{{call_id}}", rest_ops.post_call)
    get(f"{api}/me/channels", get_channels)
    get(f"{api}/me/channels/{{channel}}", get_channel)
    post(f"{api}/me/channels/{{channel}}", rest_ops.post_channel)
    get(f"{api}/me/interactions", get_interactions)
    post(f"{api}/me/interactions", rest_ops.post_interactions)
    get(f"{api}/me/interactions/{{interaction_id}}", get_interaction)
    get(f"{api}/interactions/{{interaction_id}}", get_interaction)
    post(f"{api}/me/interactions/{{interaction_id}}", rest_ops.post_interaction)
    add_attachment_routes(app, api)
    get(f"{api}/me/workbins", get_workbins)
    post(f"{api}/me/workbins", rest_ops.post_workbin_subscription)
    post(f"{api}/me/workbins/{{workbin_id}}", rest_ops.post_workbin_subscription)
    get(f"{api}/me/workbins/{{workbin_id}}/interactions", get_workbin_content)
    post(f"{api}/me/workbins/{{workbin_id}}/interactions", rest_ops.post_workbin_interaction)
    get(f"{api}/settings", get_settings_groups)
    get(f"{api}/settings/agent-states", get_agent_states)
    get(f"{api}/me/settings/agent-states", get_agent_states)
    get(f"{api}/settings/dispositions", get_dispositions)
    get(f"{api}/settings/voice", get_voice_settings)
    get(f"{api}/groups/{{group_id}}", get_group)
    get(f"{api}/groups/{{group_id}}/dispositions", get_group_dispositions)
