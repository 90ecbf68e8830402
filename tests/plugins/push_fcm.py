"""The FCM emulator: Google's OAuth token endpoint and FCM HTTP v1 ``messages:send`` on loopback.

``FcmEmulator`` is an aiohttp app: ``POST /token`` checks the service-account
assertion (RS256, ``iss``, ``aud``, ``scope``, lifetime) and issues access
tokens; ``POST /v1/projects/<id>/messages:send`` checks the bearer token, the
project and the message (``data`` values are strings, ``android.collapse_key``
and ``android.ttl`` are present and well-formed, 4 KB), answers ``404
UNREGISTERED`` for a revoked token, and records every request. Scripted
answers (``script``) serve the 429/5xx tests.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from aiohttp import web

from bridge.config.delivery import DestinationConfig
from tests.plugins.push_keys import CLIENT_EMAIL, PRIVATE_KEY_ID, PROJECT_ID, PushKeys, Scripted

__all__ = ["FcmEmulator", "FcmRequest"]

_FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:.-]{32,4096}$")
_FCM_TTL = re.compile(r"^\d+(\.\d{1,9})?s$")


@dataclass
class FcmRequest:
    """One ``messages:send`` the FCM emulator received, and its answer."""

    project: str
    authorization: str | None
    body: Any
    status: int = 0
    error: str | None = None


def _fcm_error(status: int, google_status: str, message: str, fcm_code: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
    if fcm_code is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        ]
    return web.json_response({"error": error}, status=status)


class FcmEmulator:
    """FCM HTTP v1 and Google's OAuth token endpoint on ``http://127.0.0.1:<port>``."""

    def __init__(self, keys: PushKeys, *, token_lifetime: int = 3599) -> None:
        self.keys = keys
        self.token_lifetime = token_lifetime
        self.revoked: set[str] = set()
        self.requests: list[FcmRequest] = []
        self.token_requests = 0
        self.access_tokens: dict[str, float] = {}  # token -> expiry (Unix time)
        self.script: deque[Scripted] = deque()
        self.clock: Callable[[], float] = time.time  # tests share a fake clock with the connector
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_post("/v1/projects/{project}/messages:send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def destination(self, name: str = "fcm", **options: Any) -> DestinationConfig:
        """A ``DestinationConfig`` pointing at this emulator (``options`` override the defaults)."""
        base = {
            "service_account": f"file:{self.keys.service_account_path}",
            "api_url": self.url,
            "token_uri": self.token_uri,
        }
        return DestinationConfig(name=name, kind="fcm", options={**base, **options})

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        assertion = str(form.get("assertion", ""))
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("kid") != PRIVATE_KEY_ID:
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt.decode(
                assertion,
                self.keys.service_account_public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                # times are checked below against self.clock, which a test may move
                options={
                    "require": ["iss", "aud", "iat", "exp", "scope"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        if (
            claims["iss"] != CLIENT_EMAIL
            or "https://www.googleapis.com/auth/firebase.messaging" not in str(claims["scope"]).split()
        ):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "bad iss/scope"}, status=400
            )
        if not claims["iat"] - 60 <= self.clock() < claims["exp"] or claims["exp"] - claims["iat"] > 3600:
            return web.json_response({"error": "invalid_grant", "error_description": "lifetime"}, status=400)
        token = f"ya29.emu-{uuid.uuid4().hex}"
        self.access_tokens[token] = self.clock() + self.token_lifetime
        return web.json_response(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    async def _send(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        record = FcmRequest(project=request.match_info["project"], authorization=authorization, body=None)
        self.requests.append(record)
        response = await self._verdict(request, record)
        record.status = response.status
        if response.status != 200 and response.body is not None:
            error = orjson.loads(response.body)["error"]  # type: ignore[arg-type]
            details = error.get("details") or [{}]
            record.error = details[0].get("errorCode") or error["status"]
        return response

    async def _verdict(self, request: web.Request, record: FcmRequest) -> web.Response:
        auth = record.authorization or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if self.access_tokens.get(token, 0) < self.clock():
            return _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if record.project != PROJECT_ID:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.")
        try:
            record.body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        message = record.body.get("message") if isinstance(record.body, dict) else None
        if not isinstance(message, dict):
            return _fcm_error(400, "INVALID_ARGUMENT", "message is required")
        if sum(1 for k in ("token", "topic", "condition") if k in message) != 1:
            return _fcm_error(400, "INVALID_ARGUMENT", "exactly one of token, topic, condition")
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return _fcm_error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data' (TYPE_STRING)")
        android = message.get("android")
        if not isinstance(android, dict) or not isinstance(android.get("collapse_key"), str):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.collapse_key is required here")
        if not isinstance(android.get("ttl"), str) or not _FCM_TTL.match(android["ttl"]):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.ttl must be a duration like '30s'")
        if str(android.get("priority", "NORMAL")).upper() not in ("NORMAL", "HIGH"):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.priority")
        if len(orjson.dumps({"data": data, "notification": message.get("notification")})) > 4096:
            return _fcm_error(400, "INVALID_ARGUMENT", "Message is too big", "INVALID_ARGUMENT")
        device = message["token"]
        if not isinstance(device, str) or not _FCM_TOKEN.match(device):
            return _fcm_error(
                400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )  # fmt: skip
        if device in self.revoked:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if self.script:
            forced = self.script.popleft()
            return web.json_response(forced.body or {}, status=forced.status, headers=forced.headers)
        return web.json_response({"name": f"projects/{PROJECT_ID}/messages/0:{uuid.uuid4().hex}"})
