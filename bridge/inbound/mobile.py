"""The device registry's routes, on the receiver's pipeline (``Receiver.mount``)::

    POST   /v1/mobile/devices           {agent, platform: ios|android, token, filter?, sandbox?} → 201
    DELETE /v1/mobile/devices/{token}   → 204, or 404 when the token is not registered
    GET    /v1/mobile/devices?agent=A   → 200 {"agent": A, "devices": [...]}

:class:`DeviceRegistryRoute` gives the steps the receiver does not (see
:class:`~bridge.inbound.http.PipelineRoute`): the receiver verifies (bodies over
:data:`MAX_BODY` 413, credentials 401, rate limit 429) → :func:`parse_device_request` (pure:
405, 415, 400, 422 naming the field) → the agent acted for (a removal's is the registered
device's: 404 when there is none) → the receiver authorizes (403, an unknown agent 422) → the
registry call → the render. A refusal is the receiver's problem+json and never reaches the
registry or GWS (a removal's lookup reads the registry, and changes nothing).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
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
from bridge.inbound.http import InboundRequest, InboundResponse, require_content_type
from bridge.inbound.problems import Problem
from bridge.mobile.registry import Device, DeviceRegistry, Platform, token_fingerprint
from bridge.mobile.topics import validate_filter

__all__ = [
    "DEVICES",
    "DEVICE_ROUTES",
    "DeviceListing",
    "DeviceRegistration",
    "DeviceRegistryRoute",
    "DeviceRemoval",
    "parse_device_request",
]

logger = logging.getLogger(__name__)

DEVICES = "/v1/mobile/devices"
DEVICE_ROUTES = (DEVICES, DEVICES + "/{token}")  # the routes to mount; also the metrics' names
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


@dataclass(frozen=True)
class DeviceListing:
    """``GET /v1/mobile/devices?agent=A``."""

    agent: str


@dataclass(frozen=True)
class DeviceRemoval:
    """``DELETE /v1/mobile/devices/{token}``, as sent (an APNs token may come in upper case)."""

    token: str


DeviceRequest = DeviceRegistration | DeviceListing | DeviceRemoval


@dataclass(frozen=True)
class _Listed:
    agent: str
    devices: list[Device]


@dataclass(frozen=True)
class _Removed:
    device: Device


_Target = DeviceRegistration | DeviceListing | Device  # what execute acts on
_Result = Device | _Listed | _Removed


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


def parse_registration(content_type: str | None, body: bytes) -> DeviceRegistration:
    """The body of ``POST /v1/mobile/devices``; ``Problem`` 415 (a charset other than UTF-8),
    400 (not a JSON object), 422 (over the input limits, or invalid: each error names its field)."""
    require_content_type(content_type, None)
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
        return DeviceRegistration.model_validate(document)
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def parse_listing(query: Mapping[str, str]) -> DeviceListing:
    """``?agent=A``; ``Problem`` 422 naming ``agent`` when it is missing or not an agent name."""
    agent = query.get("agent", "")
    if not _AGENT.match(agent):
        raise Problem(
            422,
            "query parameter agent is required",
            kind="invalid-device",
            errors=[{"field": "agent", "message": "required: the agent whose devices to list"}],
        )
    return DeviceListing(agent)


def parse_device_request(request: InboundRequest) -> DeviceRequest:
    """What a request to one of :data:`DEVICE_ROUTES` asks for; pure. ``Problem`` 405 for another
    method, else as :func:`parse_registration` / :func:`parse_listing`."""
    method = request.method.upper()
    if request.path != DEVICES:  # DEVICES/{token}: the receiver matched one path segment
        if method != "DELETE":
            raise Problem(405, "use DELETE", kind="method-not-allowed", headers={"Allow": "DELETE"})
        return DeviceRemoval(request.path.removeprefix(DEVICES + "/"))
    if method == "POST":
        return parse_registration(request.headers.get("Content-Type"), request.body)
    if method == "GET":
        return parse_listing(request.query)
    raise Problem(405, "use POST or GET", kind="method-not-allowed", headers={"Allow": "GET, POST"})


class DeviceRegistryRoute:
    """The registry's steps on the receiver's pipeline (a :class:`~bridge.inbound.http.PipelineRoute`),
    mounted at each of :data:`DEVICE_ROUTES`."""

    max_body = MAX_BODY

    def __init__(self, registry: DeviceRegistry) -> None:
        self._registry = registry

    def parse(self, request: InboundRequest) -> DeviceRequest:
        return parse_device_request(request)

    async def subject(self, parsed: DeviceRequest) -> tuple[str, _Target]:
        """The agent acted for: the registration's, the listing's, or the registered device's
        (``Problem`` 404 when the token is not registered, in either spelling)."""
        if not isinstance(parsed, DeviceRemoval):
            return parsed.agent, parsed
        registry, token = self._registry, parsed.token
        device = await registry.get(token) or await registry.get(token.lower())
        if device is None:
            raise Problem(404, "no device with this token is registered")
        return device.agent, device

    async def execute(self, target: _Target) -> _Result:
        if isinstance(target, DeviceListing):
            return _Listed(target.agent, await self._registry.list(target.agent))
        if isinstance(target, Device):
            await self._registry.remove(target.token)
            fingerprint = token_fingerprint(target.token)
            logger.info("mobile device removed", extra={"agent": target.agent, "token": fingerprint})
            return _Removed(target)
        device = await self._registry.register(
            target.agent, target.platform, target.token, filter=target.filter, sandbox=target.sandbox
        )
        logger.info(
            "mobile device registered",
            extra={"agent": device.agent, "platform": device.platform.value,
                   "token": token_fingerprint(device.token)},
        )  # fmt: skip
        return device

    def render(self, result: _Result) -> InboundResponse:
        if isinstance(result, _Removed):
            return InboundResponse(204, b"", "application/json")
        if isinstance(result, _Listed):
            return InboundResponse.json(
                200, {"agent": result.agent, "devices": [d.to_json() for d in result.devices]}
            )
        return InboundResponse.json(201, result.to_json())
