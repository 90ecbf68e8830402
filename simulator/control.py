"""The ``/sim`` control API for tests, demos and load (no auth: bind the simulator to loopback).

Every endpoint replies JSON; a bad request gets 400 ``{"error": …}``, an unknown agent, call
or interaction 404.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from simulator.envelopes import OperationError
from simulator.load import LoadSpec
from simulator.model import MediaChannel
from simulator.node import sim_of
from simulator.replies import json_response

__all__ = ["add_control_routes"]

logger = logging.getLogger("simulator.control")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise _BadRequest(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest(400, "body must be a JSON object")
    return body


def _errors(handler: Any) -> Any:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            response: web.Response = await handler(request)
            return response
        except _BadRequest as error:
            return json_response({"error": error.message}, error.status)
        except OperationError as error:
            return json_response({"error": error.message}, 404 if error.status_code == 6 else 400)

    return wrapped


@_errors
async def start_call(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _json(request)
    to = body.get("to")
    user = sim.state.user(str(to)) if to else None
    if user is None:
        raise _BadRequest(404 if to else 400, f"unknown agent {to!r}" if to else "'to' is required")
    user_data = body.get("userData")
    if user_data is not None and not isinstance(user_data, dict):
        raise _BadRequest(400, "'userData' must be an object")
    call = sim.voice.ring(user, str(body.get("from") or "5551234"), user_data)
    logger.info("sim call ringing", extra={"agent": call.owner, "call_id": call.id})
    return json_response(
        {"id": call.id, "callUuid": call.call_uuid, "agent": call.owner, "uri": sim.builder.call_uri(call.id)}
    )


@_errors
async def release_call(request: web.Request) -> web.Response:
    sim = sim_of(request)
    call = sim.state.calls.get(request.match_info["call_id"])
    if call is None:
        raise _BadRequest(404, f"unknown call {request.match_info['call_id']!r}")
    sim.voice.release(call)
    logger.info("sim call released", extra={"agent": call.owner, "call_id": call.id})
    return json_response({"id": call.id, "state": call.state.value})


@_errors
async def send_interaction(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _json(request)
    to = body.get("to")
    user = sim.state.user(str(to)) if to else None
    if user is None:
        raise _BadRequest(404 if to else 400, f"unknown agent {to!r}" if to else "'to' is required")
    try:
        channel = MediaChannel(str(body.get("channel", "email")))
    except ValueError:
        raise _BadRequest(400, "'channel' must be 'email' or 'chat'") from None
    user_data = body.get("userData")
    if user_data is not None and not isinstance(user_data, dict):
        raise _BadRequest(400, "'userData' must be an object")
    interaction = sim.media.invite(
        user,
        channel,
        subject=str(body.get("subject", "")),
        text=str(body.get("text", "")),
        user_data=user_data,
        from_address=str(body.get("from") or "customer@example.com"),
    )
    logger.info("sim interaction offered", extra={"agent": user.user_name, "interaction_id": interaction.id})
    return json_response({"id": interaction.id, "agent": user.user_name, "channel": channel.value})


@_errors
async def chat_message(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _json(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise _BadRequest(400, "'text' is required")
    interaction = sim.media.customer_message(request.match_info["interaction_id"], text)
    return json_response({"id": interaction.id, "eventId": interaction.events[-1]["id"]})


@_errors
async def set_service(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _json(request)
    state = body.get("state")
    if state not in ("Active", "Inactive", "ReadOnly", "Unknown"):
        raise _BadRequest(400, "'state' must be Active, Inactive, ReadOnly or Unknown")
    try:
        service = sim.set_service_state(request.match_info["service_type"], str(state))
    except KeyError:
        raise _BadRequest(404, f"unknown service type {request.match_info['service_type']!r}") from None
    return json_response(service)


async def disconnect(request: web.Request) -> web.Response:
    body = await _json(request)
    refuse_for = body.get("refuseFor", 0)
    if isinstance(refuse_for, bool) or not isinstance(refuse_for, int | float) or not 0 <= refuse_for <= 60:
        raise _BadRequest(400, "'refuseFor' must be a number of seconds between 0 and 60")
    clients = await sim_of(request).bayeux.disconnect_all(refuse_for=float(refuse_for))
    return json_response({"cometdClients": clients})


async def restart(request: web.Request) -> web.Response:
    return json_response(await sim_of(request).restart())


async def get_log(request: web.Request) -> web.Response:
    sim = sim_of(request)
    agent = request.query.get("agent")
    entries = [e for e in sim.request_log if agent is None or e["agent"] == agent]
    return json_response({"entries": entries})


async def clear_log(request: web.Request) -> web.Response:
    sim = sim_of(request)
    count = len(sim.request_log)
    sim.request_log.clear()
    return json_response({"cleared": count})


async def get_logins(request: web.Request) -> web.Response:
    """Every log-in recorded (the latest 100,000), oldest first: ``{"logins": [{time, agent}]}``."""
    logins = sim_of(request).sessions.logins
    return json_response({"logins": [{"time": at, "agent": agent} for at, agent in logins]})


async def get_status(request: web.Request) -> web.Response:
    return json_response(sim_of(request).status())


@_errors
async def start_load(request: web.Request) -> web.Response:
    sim = sim_of(request)
    body = await _json(request)
    try:
        spec = LoadSpec.from_json(body, len(sim.state.users))
    except ValueError as exc:
        raise _BadRequest(400, str(exc)) from None
    runner = sim.loads.start(spec)
    logger.info("sim load started", extra={"load_id": runner.id, "calls_per_second": spec.calls_per_second})
    return json_response(runner.progress(), 202)


@_errors
async def stop_load(request: web.Request) -> web.Response:
    runner = sim_of(request).loads.get(request.match_info["load_id"])
    if runner is None:
        raise _BadRequest(404, f"unknown load {request.match_info['load_id']!r}")
    await runner.stop()
    return json_response(runner.progress())


@_errors
async def get_load(request: web.Request) -> web.Response:
    runner = sim_of(request).loads.get(request.match_info["load_id"])
    if runner is None:
        raise _BadRequest(404, f"unknown load {request.match_info['load_id']!r}")
    return json_response(runner.progress())


def add_control_routes(app: web.Application) -> None:
    """Mount ``/sim/*``."""
    router = app.router
    router.add_post("/sim/calls", start_call)
    router.add_post("/sim/calls/{call_id}/release", release_call)
    router.add_post("/sim/interactions", send_interaction)
    router.add_post("/sim/chat/{interaction_id}/messages", chat_message)
    router.add_post("/sim/services/{service_type}", set_service)
    router.add_post("/sim/disconnect", disconnect)
    router.add_post("/sim/restart", restart)
    router.add_get("/sim/log", get_log)
    router.add_delete("/sim/log", clear_log)
    router.add_get("/sim/status", get_status)
    router.add_get("/sim/logins", get_logins)
    router.add_post("/sim/load", start_load)
    router.add_get("/sim/load/{load_id}", get_load)
    router.add_delete("/sim/load/{load_id}", stop_load)
