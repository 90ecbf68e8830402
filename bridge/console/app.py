"""The console's HTTP side: the admin API under ``/v1/admin/``, the pages, and their guards.

Every response passes the security middleware: a request is answered only with a valid session
cookie or ``Authorization: Bearer <admin key>`` (except ``/login``, its script and style sheet,
``/healthz`` and ``/readyz``); a state-changing request with the cookie must carry the session's CSRF token;
operator-only routes refuse a viewer (403). Responses carry a strict Content-Security-Policy
(scripts and styles from this origin only), ``no-store`` and ``nosniff``. Errors are
``application/problem+json`` naming the field at fault.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config import Settings
from bridge.config.console import ConsoleSettings
from bridge.console.auth import COOKIE, CSRF_HEADER, AuditLog, Identity, SessionStore, csrf_ok, find_key
from bridge.console.live import LiveTail
from bridge.console.openapi import openapi_document
from bridge.console.signin import SignInLimit
from bridge.console.views import ConsoleData, EventQuery
from bridge.delivery.admin import AdminError, DeliveryAdmin, LetterFilter, parse_time
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem
from bridge.inbound.ratelimit import RateLimiter
from bridge.redis_client import async_redis

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
_PUBLIC = {"/login", "/static/login.js", "/static/style.css", "/healthz", "/readyz"}
_PAGES = {"/": "index.html", "/static/app.js": "app.js", "/login": "login.html",
          "/static/login.js": "login.js", "/static/style.css": "style.css"}  # fmt: skip
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
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
_NAME = re.compile(r"^[A-Za-z0-9_.@:/-]{1,200}$")
_MAX_BODY = 64 * 1024

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


def _problem(status: int, detail: str, *, kind: str | None = None, **extensions: Any) -> web.Response:
    body = Problem(status, detail, kind=kind, **extensions).body()
    return web.Response(status=status, body=orjson.dumps(body), content_type=PROBLEM_CONTENT_TYPE)


def _json(value: Any, status: int = 200) -> web.Response:
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
        if request.path not in _PUBLIC and not (
            request.path == "/v1/admin/session" and request.method == "POST"
        ):
            identity = await _identify(request)
            if identity is None:
                if request.method == "GET" and not request.path.startswith("/v1/"):
                    raise web.HTTPFound("/login")
                return _secure(
                    _problem(401, "sign in: a session cookie or Authorization: Bearer <admin key>")
                )
            if request.method in _STATE_CHANGING and not csrf_ok(identity, request.headers.get(CSRF_HEADER)):
                return _secure(_problem(403, f"missing or wrong {CSRF_HEADER} header", kind="csrf"))
            request[IDENTITY] = identity
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _problem(exc.status, exc.reason)
    except Problem as problem:
        response = web.Response(
            status=problem.status,
            body=orjson.dumps(problem.body(request.path)),
            content_type=PROBLEM_CONTENT_TYPE,
        )
    except AdminError as exc:
        response = _problem(exc.status, str(exc), field=exc.field)
    except Exception:
        logger.exception("console request failed", extra={"path": request.path})
        response = _problem(500, "internal error", kind="internal-error")
    return _secure(response)


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def _identity(request: web.Request) -> Identity:
    return request[IDENTITY]


def _operator(request: web.Request, action: str) -> Identity:
    identity = _identity(request)
    if not identity.operator:
        raise Problem(403, f"{action} needs an operator key; {identity.name} is a viewer", kind="forbidden")
    return identity


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    if request.content_type != "application/json":
        raise Problem(415, "send application/json", kind="unsupported-media-type")
    raw = await request.content.read(_MAX_BODY + 1)
    if len(raw) > _MAX_BODY:
        raise Problem(413, f"body larger than {_MAX_BODY} bytes")
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "body is not JSON", kind="malformed-body") from exc
    if not isinstance(body, dict):
        raise Problem(400, "body must be a JSON object", kind="malformed-body")
    return body


def _int(request: web.Request, name: str, default: int, *, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise Problem(400, f"{name} must be an integer from 1 to {high}", field=name)
    return int(raw)


# -- pages ------------------------------------------------------------------------------------------


async def page(request: web.Request) -> web.Response:
    name = _PAGES[request.path]
    body = (STATIC / name).read_bytes()
    return web.Response(body=body, content_type=_TYPES[Path(name).suffix], charset="utf-8")


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    """200 while Redis answers (everything the console shows and does is there), else 503."""
    try:
        await request.app[REDIS].ping()
    except (RedisError, OSError):
        return _problem(503, "Redis does not answer", kind="store-unavailable")
    return web.Response(text="ready")


# -- session ----------------------------------------------------------------------------------------


async def sign_in(request: web.Request) -> web.Response:
    body = await _body(request)
    api_key = body.get("key")
    if not isinstance(api_key, str) or not api_key:
        raise Problem(400, "key: the admin API key is required", field="key")
    wait = await request.app[SIGN_IN_LIMIT].wait(request.remote or "", api_key)
    if wait > 0:
        logger.warning("console sign-in rate-limited", extra={"remote": request.remote})
        response = _problem(429, "too many sign-in attempts; retry later", kind="rate-limited")
        response.headers["Retry-After"] = RateLimiter.retry_after_header(wait)
        return response
    key = find_key(request.app[CONFIG], api_key)
    if key is None:
        await asyncio.sleep(0.2)  # a guess costs time; the log line names no key
        logger.warning("console sign-in refused", extra={"remote": request.remote})
        raise Problem(401, "unknown admin key", kind="unauthorized")
    token, identity = await request.app[SESSIONS].open(key)
    await request.app[AUDIT].record(identity, "sign-in", "session", "ok")
    response = _json({"name": identity.name, "role": identity.role.value, "csrf": identity.csrf})
    config = request.app[CONFIG]
    response.set_cookie(
        COOKIE, token, max_age=int(config.session_ttl), path="/", httponly=True, samesite="Strict",
        secure=config.secure_cookie,
    )  # fmt: skip
    return response


async def who(request: web.Request) -> web.Response:
    identity = _identity(request)
    return _json({"name": identity.name, "role": identity.role.value, "csrf": identity.csrf})


async def sign_out(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[SESSIONS].close(token)
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


# -- reads ------------------------------------------------------------------------------------------


async def openapi(_: web.Request) -> web.Response:
    return _json(openapi_document())


async def overview(request: web.Request) -> web.Response:
    return _json(await request.app[DATA].overview())


async def agents(request: web.Request) -> web.Response:
    return _json({"agents": await request.app[DATA].agents()})


async def agent(request: web.Request) -> web.Response:
    found = await request.app[DATA].agent(request.match_info["name"])
    if found is None:
        raise Problem(404, f"no configured agent {request.match_info['name']!r}", field="name")
    return _json(found)


async def events(request: web.Request) -> web.Response:
    criteria = {name: request.query.get(name) for name in EventQuery.FIELDS}
    for name, value in criteria.items():
        if value is not None and len(value) > 200:
            raise Problem(400, f"{name} is longer than 200 characters", field=name)
    limit = _int(request, "limit", 50, high=500)
    return _json({"events": await request.app[DATA].events(EventQuery(**criteria), limit)})


async def timeline(request: web.Request) -> web.Response:
    subject = request.query.get("subject", "")
    if not _NAME.match(subject) or "/" not in subject:
        raise Problem(400, "subject must look like call/<id> or interaction/<id>", field="subject")
    return _json({"subject": subject, "events": await request.app[DATA].timeline(subject)})


async def destinations(request: web.Request) -> web.Response:
    data = request.app[DATA]
    minutes = _int(request, "minutes", 15, high=60)
    stats = await data.destination_stats(minutes)
    rows = [{**row, "recent": stats.get(row["name"])} for row in await request.app[ADMIN].destination_rows()]
    total, _ = await request.app[ADMIN].retry_depths()
    return _json({"destinations": rows, "retries_scheduled": total, "minutes": minutes})


async def dead_letters(request: web.Request) -> web.Response:
    selection = _filter(dict(request.query), ids=())
    letters = await request.app[ADMIN].dead_letters(selection)
    data = request.app[DATA]
    return _json({"dead_letters": [data.mask(letter.to_dict()) for letter in letters]})


async def dead_letter(request: web.Request) -> web.Response:
    letter = await request.app[ADMIN].dead_letter(request.match_info["id"])
    if letter is None:
        raise Problem(404, f"no dead letter {request.match_info['id']!r}", field="id")
    return _json(request.app[DATA].mask(letter.to_dict()))


async def commands(request: web.Request) -> web.Response:
    limit = _int(request, "limit", 100, high=1000)
    rows = await request.app[DATA].commands(
        limit=limit, agent=request.query.get("agent") or None, client=request.query.get("client") or None
    )
    return _json({"commands": rows})


async def audit(request: web.Request) -> web.Response:
    return _json({"actions": await request.app[AUDIT].recent(_int(request, "limit", 200, high=1000))})


async def stream(request: web.Request) -> web.StreamResponse:
    return await request.app[LIVE].serve(request)


# -- operator actions -------------------------------------------------------------------------------


def _filter(body: dict[str, Any], *, ids: Any = None) -> LetterFilter:
    raw_ids = body.get("ids", []) if ids is None else ids
    if not isinstance(raw_ids, list | tuple) or not all(
        isinstance(i, str) and _NAME.match(i) for i in raw_ids
    ):
        raise Problem(400, "ids must be a list of dead-letter ids", field="ids")
    destination = body.get("destination") or None
    if destination is not None and (not isinstance(destination, str) or not _NAME.match(destination)):
        raise Problem(400, "destination is not a destination name", field="destination")
    limit = body.get("limit")
    if limit is not None:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= 100_000:
            raise Problem(400, "limit must be an integer from 1 to 100000", field="limit")
    return LetterFilter(
        ids=tuple(raw_ids), destination=destination, since=_when(body.get("since"), "since"),
        until=_when(body.get("until"), "until"), limit=limit,
    )  # fmt: skip


def _when(raw: Any, name: str) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return parse_time(str(raw))
    except ValueError as exc:
        raise Problem(400, f"{name}: ISO 8601, Unix seconds or an age such as 15m", field=name) from exc


async def _bulk(request: web.Request, action: str) -> web.Response:
    identity = _operator(request, f"{action} dead letters")
    body = await _body(request)
    selection = _filter(body)
    everything = body.get("all") is True
    dry_run = body.get("dry_run") is True
    admin = request.app[ADMIN]
    target = ",".join(selection.ids) or (
        f"destination={selection.destination} since={selection.since} until={selection.until}"
        if not selection.unfiltered else "all"
    )  # fmt: skip
    try:
        # The same streaming code as `gws-bridge dlq`: batches, bounded memory, and the dry run.
        bulk = admin.replay if action == "replay" else admin.purge
        result = await bulk(selection, everything=everything, dry_run=dry_run)
    except AdminError as exc:
        await request.app[AUDIT].record(identity, f"dead-letters.{action}", target, f"refused: {exc}")
        raise
    outcome = f"{'dry run: would ' + action + ' ' if dry_run else ''}{result.count} letter(s)"
    audit = request.app[AUDIT]
    await audit.record(identity, f"dead-letters.{action}", target, outcome, missing=result.missing)
    return _json({"count": result.count, "missing": result.missing, "dry_run": dry_run})


async def replay(request: web.Request) -> web.Response:
    return await _bulk(request, "replay")


async def purge(request: web.Request) -> web.Response:
    return await _bulk(request, "purge")


async def destination_action(request: web.Request) -> web.Response:
    name, action = request.match_info["name"], request.match_info["action"]
    identity = _operator(request, f"{action} a destination")
    admin, log = request.app[ADMIN], request.app[AUDIT]
    body = await _body(request)
    try:
        if action == "enable":
            moved, kicks = await admin.enable(name)
            result: dict[str, Any] = {"enabled": True, "rescheduled": moved, "subjects_kicked": kicks}
        elif action == "disable":
            reason = body.get("reason") or f"disabled by {identity.name} (console)"
            if not isinstance(reason, str) or len(reason) > 200:
                raise Problem(400, "reason must be a string of at most 200 characters", field="reason")
            result = {"disabled": await admin.disable(name, reason)}
        else:
            event = await admin.send_test(name, identity.name)
            result = {"event_id": event.id}
    except AdminError as exc:
        await log.record(identity, f"destination.{action}", name, f"refused: {exc}")
        raise
    await log.record(identity, f"destination.{action}", name, "ok", **result)
    return _json(result)


# -- the application --------------------------------------------------------------------------------


def create_app(settings: Settings, *, redis: Redis | None = None) -> web.Application:
    """The console as an aiohttp application (its Redis client closes with the app)."""
    client = redis if redis is not None else async_redis(settings)
    app = web.Application(middlewares=[guard], client_max_size=_MAX_BODY)
    admin = DeliveryAdmin(settings, client)
    keys = settings.keys.console
    app[CONFIG] = settings.console
    app[REDIS] = client
    app[ADMIN] = admin
    app[DATA] = ConsoleData(settings, client, admin)
    app[SESSIONS] = SessionStore(client, keys, settings.console)
    app[SIGN_IN_LIMIT] = SignInLimit(client, keys, settings.console)
    app[AUDIT] = AuditLog(client, keys, settings.console)
    app[LIVE] = LiveTail(client, keys.attempts, app[DATA].mask)
    for path in _PAGES:
        app.router.add_get(path, page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    v1 = "/v1/admin"
    app.router.add_get(f"{v1}/openapi.json", openapi)
    app.router.add_post(f"{v1}/session", sign_in)
    app.router.add_get(f"{v1}/session", who)
    app.router.add_delete(f"{v1}/session", sign_out)
    app.router.add_get(f"{v1}/overview", overview)
    app.router.add_get(f"{v1}/agents", agents)
    app.router.add_get(f"{v1}/agents/{{name}}", agent)
    app.router.add_get(f"{v1}/events", events)
    app.router.add_get(f"{v1}/timeline", timeline)
    app.router.add_get(f"{v1}/destinations", destinations)
    app.router.add_post(f"{v1}/destinations/{{name}}/{{action:enable|disable|test}}", destination_action)
    app.router.add_get(f"{v1}/dead-letters", dead_letters)
    app.router.add_post(f"{v1}/dead-letters/replay", replay)
    app.router.add_post(f"{v1}/dead-letters/purge", purge)
    app.router.add_get(f"{v1}/dead-letters/{{id}}", dead_letter)
    app.router.add_get(f"{v1}/commands", commands)
    app.router.add_get(f"{v1}/audit", audit)
    app.router.add_get(f"{v1}/stream", stream)

    async def close(_: web.Application) -> None:
        await app[LIVE].aclose()
        if redis is None:
            await client.aclose()

    app.on_shutdown.append(close)
    return app
