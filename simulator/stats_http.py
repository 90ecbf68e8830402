"""HTTP for the Statistics API: ``GET /api/v1/stats/{objectId}[/{statisticName}]`` and the
``POST /sim/queues/{objectId}/overload`` control (``{"waiting": N, "abandon": false}``)."""

from __future__ import annotations

from aiohttp import web

from simulator.envelopes import OperationError
from simulator.node import sim_of
from simulator.replies import error_response, json_response

__all__ = ["add_stats_routes"]


def _int_param(request: web.Request, name: str, minimum: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise OperationError(1, f"Invalid parameter {name}: {raw!r}")
    return value


async def get_latest(request: web.Request) -> web.Response:
    try:
        return json_response(sim_of(request).stats.latest(request.match_info["object_id"]))
    except OperationError as error:
        return error_response(error)


async def get_range(request: web.Request) -> web.Response:
    try:
        num_values = _int_param(request, "numValues", 1)
        start, end = _int_param(request, "from", 0), _int_param(request, "to", 0)
        reply = sim_of(request).stats.values(
            request.match_info["object_id"], request.match_info["statistic"], num_values, start, end
        )
    except OperationError as error:
        return error_response(error)
    return json_response(reply)


async def overload(request: web.Request) -> web.Response:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return json_response({"error": "the body must be a JSON object"}, 400)
    waiting, abandon = body.get("waiting", 15), body.get("abandon", False)
    if not isinstance(waiting, int) or isinstance(waiting, bool) or not 0 <= waiting <= 10_000:
        return json_response({"error": "'waiting' must be an integer from 0 to 10000"}, 400)
    if not isinstance(abandon, bool):
        return json_response({"error": "'abandon' must be a boolean"}, 400)
    try:
        reply = sim_of(request).stats.set_waiting(request.match_info["object_id"], waiting, abandon=abandon)
    except KeyError:
        return json_response({"error": f"unknown queue {request.match_info['object_id']!r}"}, 404)
    return json_response(reply)


def add_stats_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/stats/{object_id}", get_latest)
    app.router.add_get("/api/v1/stats/{object_id}/{statistic}", get_range)
    app.router.add_post("/sim/queues/{object_id}/overload", overload)
