"""HTTP routes of the device registry, mounted into the receiver's aiohttp app.

::

    POST   /v1/mobile/devices           {agent, platform: ios|android, token, filter?, sandbox?} → 201
    DELETE /v1/mobile/devices/{token}   → 204, or 404 when the token is not registered
    GET    /v1/mobile/devices?agent=A   → 200 {"agent": A, "devices": [...]}

Every request is authenticated with the receiver's own ``authenticate``
callable (the one ``/v1/commands`` uses): it gets the headers and the raw body
and raises :class:`~bridge.inbound.problems.Problem` (401) to refuse. The
optional ``authorize(verified, agent)`` raises ``Problem`` (403) when the
caller may not act for that agent (a ``CommandError``, e.g. 422 for an unknown
agent, is answered with its own status). Refusals are ``application/problem+json``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.commands.limits import input_violations
from bridge.errors import CommandError
from bridge.inbound.http import require_content_type
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, log_refusal, problem_for_command_error
from bridge.mobile.registry import DeviceRegistry, Platform, token_fingerprint
from bridge.mobile.topics import validate_filter

__all__ = ["Authenticate", "Authorize", "DeviceRegistration", "add_mobile_routes"]

logger = logging.getLogger(__name__)

Authenticate = Callable[[Mapping[str, str], bytes], Awaitable[Any]]
Authorize = Callable[[Any, str], None]

MAX_BODY = 16 * 1024
# APNs tokens are hex (32 bytes today; Apple warns the length may grow); FCM tokens are URL-safe text.
_APNS_TOKEN = re.compile(r"^(?:[0-9a-fA-F]{2}){32,100}$")
_FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:.-]{32,4096}$")
_AGENT = re.compile(r"^[^\s/\x00-\x1f\x7f]{1,128}$")


class DeviceRegistration(BaseModel):
    """The body of ``POST /v1/mobile/devices``."""

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=128)
    platform: Platform
    token: str = Field(min_length=1, max_length=4096)
    filter: str | None = None
    sandbox: StrictBool = False

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        if not _AGENT.match(value):
            raise ValueError("agent must be 1-128 characters without spaces, slashes or control characters")
        return value

    @field_validator("filter")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        return None if value is None else validate_filter(value)

    @model_validator(mode="after")
    def _token_format(self) -> DeviceRegistration:
        if self.platform is Platform.IOS and not _APNS_TOKEN.match(self.token):
            raise ValueError("an ios token is the APNs device token in hex (64 or more hex digits)")
        if self.platform is Platform.ANDROID and not _FCM_TOKEN.match(self.token):
            raise ValueError("an android token is the FCM registration token (32+ chars of A-Za-z0-9_:.-)")
        if self.platform is Platform.IOS:
            self.token = self.token.lower()  # APNs tokens are case-insensitive; store one spelling
        return self


async def _read_limited(request: web.Request) -> bytes:
    """The whole body; ``Problem`` 413 as soon as it passes ``MAX_BODY`` (chunked bodies included)."""
    body = bytearray()
    while chunk := await request.content.read(MAX_BODY + 1 - len(body)):
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise Problem(413, f"body over {MAX_BODY} bytes")
    return bytes(body)


def _problem(problem: Problem, request: web.Request) -> web.Response:
    log_refusal(problem, request.method, request.path)
    return web.Response(
        status=problem.status,
        body=orjson.dumps(problem.body(request.path)),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def _json(status: int, document: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(document), content_type="application/json")


def _limits_problem(document: Any) -> Problem | None:
    violations = input_violations(document)
    if not violations:
        return None
    errors = [{"field": ".".join(v["loc"]) or "(body)", "message": v["msg"]} for v in violations]
    return Problem(422, "the body exceeds the input limits", kind="invalid-device", errors=errors)


def _validation_problem(exc: ValidationError) -> Problem:
    errors = [
        {"field": ".".join(str(p) for p in error["loc"]) or "(body)", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]
    return Problem(422, "invalid device registration", kind="invalid-device", errors=errors)


def add_mobile_routes(
    app: web.Application,
    registry: DeviceRegistry,
    authenticate: Authenticate,
    *,
    authorize: Authorize | None = None,
) -> None:
    """Add the three registry routes to ``app`` (call before the app starts)."""

    async def verified(request: web.Request, body: bytes) -> Any:
        return await authenticate(request.headers, body)

    def allowed(who: Any, agent: str) -> None:
        if authorize is not None:
            try:
                authorize(who, agent)
            except CommandError as exc:  # the receiver's authorize says 422 for an unknown agent
                raise problem_for_command_error(exc) from None

    async def post_device(request: web.Request) -> web.Response:
        try:
            if request.content_length is not None and request.content_length > MAX_BODY:
                raise Problem(413, f"body over {MAX_BODY} bytes")
            body = await _read_limited(request)
            who = await verified(request, body)
            require_content_type(request.headers.get("Content-Type"), None)
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise Problem(400, "body is not JSON") from None
            if not isinstance(document, dict):
                raise Problem(400, "body must be a JSON object")
            refusal = _limits_problem(document)
            if refusal is not None:
                raise refusal
            try:
                registration = DeviceRegistration.model_validate(document)
            except ValidationError as exc:
                raise _validation_problem(exc) from None
            allowed(who, registration.agent)
        except Problem as problem:
            return _problem(problem, request)
        device = await registry.register(
            registration.agent,
            registration.platform,
            registration.token,
            filter=registration.filter,
            sandbox=registration.sandbox,
        )
        logger.info(
            "mobile device registered",
            extra={
                "agent": device.agent,
                "platform": device.platform.value,
                "token": token_fingerprint(device.token),
            },
        )
        return _json(201, device.to_json())

    async def delete_device(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            who = await verified(request, await request.read())
            device = await registry.get(token) or await registry.get(token.lower())
            if device is None:
                raise Problem(404, "no device with this token is registered")
            allowed(who, device.agent)
        except Problem as problem:
            return _problem(problem, request)
        await registry.remove(device.token)
        logger.info(
            "mobile device removed", extra={"agent": device.agent, "token": token_fingerprint(device.token)}
        )
        return web.Response(status=204)

    async def list_devices(request: web.Request) -> web.Response:
        try:
            who = await verified(request, await request.read())
            agent = request.query.get("agent", "")
            if not _AGENT.match(agent):
                raise Problem(
                    422,
                    "query parameter agent is required",
                    kind="invalid-device",
                    errors=[{"field": "agent", "message": "required: the agent whose devices to list"}],
                )
            allowed(who, agent)
        except Problem as problem:
            return _problem(problem, request)
        devices = await registry.list(agent)
        return _json(200, {"agent": agent, "devices": [d.to_json() for d in devices]})

    app.router.add_post("/v1/mobile/devices", post_device)
    app.router.add_get("/v1/mobile/devices", list_devices)
    app.router.add_delete("/v1/mobile/devices/{token}", delete_device)
