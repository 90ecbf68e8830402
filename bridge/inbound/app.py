"""The aiohttp adapter: translate to and from the neutral request/response, nothing else.

Serve it with :class:`bridge.inbound.server.ReceiverRunner`, so that what aiohttp answers by
itself is problem+json too.
"""

from __future__ import annotations

from aiohttp import web

from bridge.config import Settings
from bridge.gws.notes import AgentNotes
from bridge.inbound.http import InboundRequest
from bridge.inbound.mobile import DEVICE_ROUTES, DeviceRegistryRoute
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, log_refusal
from bridge.inbound.receiver import Receiver
from bridge.inbound.server import access_log_middleware, problem_middleware
from bridge.inbound.slack import install_slack_routes
from bridge.inbound.store import CommandStore
from bridge.mobile.registry import DeviceRegistry
from bridge.redis_client import async_redis

__all__ = ["RECEIVER_KEY", "create_app"]

RECEIVER_KEY: web.AppKey[Receiver] = web.AppKey("receiver", Receiver)


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it exceeds ``limit`` bytes (read no further than that).

    The application's ``client_max_size`` is ``limit + 1``: aiohttp stops reading a longer
    (e.g. chunked) body at the first chunk past the limit.
    """
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return None


def create_app(settings: Settings, *, store: CommandStore | None = None) -> web.Application:
    """The receiver as an aiohttp application (its resources close with the app)."""
    # Redis also holds the mobile device registry (beside the push connectors that read it) and
    # the notes the receiver files for the subscribers.
    redis = async_redis(settings)
    receiver = Receiver(
        settings.inbound,
        settings.gws,
        list(settings.agents),
        redis=settings,
        store=store,
        keys=settings.keys.inbound,
        command_index=settings.console.recent_commands,
        notes=AgentNotes(redis, settings.keys.notes),
    )
    limit = settings.inbound.max_body_bytes

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await _read_body(request, limit)
        if body is None:
            problem = Problem(413, f"the body exceeds {limit} bytes", kind="body-too-large")
            log_refusal(problem, request.method, request.path)
            return web.json_response(
                problem.body(request.path),
                status=413,
                content_type=PROBLEM_CONTENT_TYPE,
                headers={"Connection": "close"},
            )
        neutral = InboundRequest(request.method, request.path, request.headers, body, request.query)
        response = await receiver.handle(neutral)
        headers = dict(response.headers, **{"Content-Type": response.content_type})
        return web.Response(status=response.status, body=response.body, headers=headers)

    async def close(app: web.Application) -> None:
        await receiver.aclose()
        await redis.aclose()

    app = web.Application(client_max_size=limit + 1, middlewares=[access_log_middleware, problem_middleware])
    app[RECEIVER_KEY] = receiver
    install_slack_routes(app, settings, receiver)  # /slack/* when [inbound.slack] is configured
    devices = DeviceRegistryRoute(DeviceRegistry(redis, prefix=settings.keys.mobile))
    for route in DEVICE_ROUTES:  # /v1/mobile/devices[/{token}]: the receiver's verify and authorize
        receiver.mount(route, devices)
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_cleanup.append(close)
    return app
