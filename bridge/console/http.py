"""What every console handler shares: the app's keys, the guard, replies, and reading a request.

:func:`guard` is the security middleware every response passes: a request is answered only with
a valid session cookie or ``Authorization: Bearer <admin key>`` (except the public paths); a
state-changing request with the cookie must carry the session's CSRF token. Responses carry a
strict Content-Security-Policy, ``no-store`` and ``nosniff``; errors are
``application/problem+json`` naming the field at fault.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from redis.asyncio import Redis

from bridge.config.console import ConsoleSettings
from bridge.console.auth import COOKIE, CSRF_HEADER, AuditLog, Identity, SessionStore, csrf_ok, find_key
from bridge.console.live import LiveTail
from bridge.console.signin import SignInLimit
from bridge.console.views import ConsoleData
from bridge.delivery.admin import AdminError, DeliveryAdmin
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem

__all__ = [
    "ADMIN",
    "AUDIT",
    "CONFIG",
    "DATA",
    "LIVE",
    "MAX_BODY",
    "NAME",
    "PUBLIC",
    "REDIS",
    "SESSIONS",
    "SIGN_IN_LIMIT",
    "guard",
    "identity_of",
    "int_query",
    "json_reply",
    "problem",
    "read_body",
    "require_operator",
]

# The console's requests log under the same logger name as before the split.
logger = logging.getLogger("bridge.console.app")

#: Paths answered without a session or key (the sign-in page and what it loads, the probes).
PUBLIC = {"/login", "/static/login.js", "/static/style.css", "/healthz", "/readyz"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
NAME = re.compile(r"^[A-Za-z0-9_.@:/-]{1,200}$")  # a destination, dead-letter id or subject
MAX_BODY = 64 * 1024

IDENTITY = web.RequestKey("identity", Identity)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# keys into the application
DATA = web.AppKey("data", ConsoleData)
ADMIN = web.AppKey("admin", DeliveryAdmin)
SESSIONS = web.AppKey("sessions", SessionStore)
AUDIT = web.AppKey("audit", AuditLog)
LIVE = web.AppKey("live", LiveTail)
CONFIG = web.AppKey("console_settings", ConsoleSettings)
REDIS = web.AppKey("redis", Redis)
SIGN_IN_LIMIT = web.AppKey("sign_in_limit", SignInLimit)


def problem(status: int, detail: str, *, kind: str | None = None, **extensions: Any) -> web.Response:
    """An ``application/problem+json`` reply."""
    body = Problem(status, detail, kind=kind, **extensions).body()
    return web.Response(status=status, body=orjson.dumps(body), content_type=PROBLEM_CONTENT_TYPE)


def json_reply(value: Any, status: int = 200) -> web.Response:
    """``value`` as a JSON reply."""
    return web.Response(status=status, body=orjson.dumps(value), content_type="application/json")


async def _identify(request: web.Request) -> Identity | None:
    app = request.app
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        key = find_key(app[CONFIG], header[7:].strip())
        return Identity(key.name, key.role) if key is not None else None
    return await app[SESSIONS].get(request.cookies.get(COOKIE))


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authentication, CSRF, security headers, and problem+json for every error."""
    try:
        if request.path not in PUBLIC and not (
            request.path == "/v1/admin/session" and request.method == "POST"
        ):
            identity = await _identify(request)
            if identity is None:
                if request.method == "GET" and not request.path.startswith("/v1/"):
                    raise web.HTTPFound("/login")
                return _secure(problem(401, "sign in: a session cookie or Authorization: Bearer <admin key>"))
            if request.method in _STATE_CHANGING and not csrf_ok(identity, request.headers.get(CSRF_HEADER)):
                return _secure(problem(403, f"missing or wrong {CSRF_HEADER} header", kind="csrf"))
            request[IDENTITY] = identity
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = problem(exc.status, exc.reason)
    except Problem as refusal:
        response = web.Response(
            status=refusal.status,
            body=orjson.dumps(refusal.body(request.path)),
            content_type=PROBLEM_CONTENT_TYPE,
        )
    except AdminError as exc:
        response = problem(exc.status, str(exc), field=exc.field)
    except Exception:
        logger.exception("console request failed", extra={"path": request.path})
        response = problem(500, "internal error", kind="internal-error")
    return _secure(response)


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def identity_of(request: web.Request) -> Identity:
    """Who sent ``request`` (set by :func:`guard`)."""
    return request[IDENTITY]


def require_operator(request: web.Request, action: str) -> Identity:
    """Who sent ``request``, if an operator; raises a 403 ``Problem`` naming ``action`` for a viewer."""
    identity = identity_of(request)
    if not identity.operator:
        raise Problem(403, f"{action} needs an operator key; {identity.name} is a viewer", kind="forbidden")
    return identity


async def read_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` without a body); raises a ``Problem`` (413, 415, 400)."""
    if not request.can_read_body:
        return {}
    if request.content_type != "application/json":
        raise Problem(415, "send application/json", kind="unsupported-media-type")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise Problem(413, f"body larger than {MAX_BODY} bytes")
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "body is not JSON", kind="malformed-body") from exc
    if not isinstance(body, dict):
        raise Problem(400, "body must be a JSON object", kind="malformed-body")
    return body


def int_query(request: web.Request, name: str, default: int, *, high: int) -> int:
    """Query parameter ``name``, an integer from 1 to ``high``; raises a 400 ``Problem`` naming it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise Problem(400, f"{name} must be an integer from 1 to {high}", field=name)
    return int(raw)
