"""The console's HTTP side: the admin API under ``/v1/admin/``, the pages, and their guards.

The guard and what handlers share are in ``http.py``, the operator's actions in ``actions.py``.
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
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config import Settings
from bridge.console.actions import destination_action, letter_filter, purge, replay
from bridge.console.attempts import EventQuery
from bridge.console.auth import COOKIE, AuditLog, SessionStore, find_key
from bridge.console.http import (
    ADMIN,
    AUDIT,
    CONFIG,
    DATA,
    LIVE,
    MAX_BODY,
    NAME,
    REDIS,
    SESSIONS,
    SIGN_IN_LIMIT,
    guard,
    identity_of,
    int_query,
    json_reply,
    problem,
    read_body,
)
from bridge.console.live import LiveTail
from bridge.console.openapi import openapi_document
from bridge.console.signin import SignInLimit
from bridge.console.views import ConsoleData
from bridge.delivery.admin import DeliveryAdmin
from bridge.inbound.problems import Problem
from bridge.inbound.ratelimit import RateLimiter
from bridge.redis_client import async_redis

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
_PAGES = {"/": "index.html", "/static/app.js": "app.js", "/login": "login.html",
          "/static/login.js": "login.js", "/static/style.css": "style.css"}  # fmt: skip
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


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
        return problem(503, "Redis does not answer", kind="store-unavailable")
    return web.Response(text="ready")


# -- session ----------------------------------------------------------------------------------------


async def sign_in(request: web.Request) -> web.Response:
    body = await read_body(request)
    api_key = body.get("key")
    if not isinstance(api_key, str) or not api_key:
        raise Problem(400, "key: the admin API key is required", field="key")
    wait = await request.app[SIGN_IN_LIMIT].wait(request.remote or "", api_key)
    if wait > 0:
        logger.warning("console sign-in rate-limited", extra={"remote": request.remote})
        response = problem(429, "too many sign-in attempts; retry later", kind="rate-limited")
        response.headers["Retry-After"] = RateLimiter.retry_after_header(wait)
        return response
    key = find_key(request.app[CONFIG], api_key)
    if key is None:
        await asyncio.sleep(0.2)  # a guess costs time; the log line names no key
        logger.warning("console sign-in refused", extra={"remote": request.remote})
        raise Problem(401, "unknown admin key", kind="unauthorized")
    token, identity = await request.app[SESSIONS].open(key)
    await request.app[AUDIT].record(identity, "sign-in", "session", "ok")
    response = json_reply({"name": identity.name, "role": identity.role.value, "csrf": identity.csrf})
    config = request.app[CONFIG]
    response.set_cookie(
        COOKIE, token, max_age=int(config.session_ttl), path="/", httponly=True, samesite="Strict",
        secure=config.secure_cookie,
    )  # fmt: skip
    return response


async def who(request: web.Request) -> web.Response:
    identity = identity_of(request)
    return json_reply({"name": identity.name, "role": identity.role.value, "csrf": identity.csrf})


async def sign_out(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[SESSIONS].close(token)
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


# -- reads ------------------------------------------------------------------------------------------


async def openapi(_: web.Request) -> web.Response:
    return json_reply(openapi_document())


async def overview(request: web.Request) -> web.Response:
    return json_reply(await request.app[DATA].overview())


async def agents(request: web.Request) -> web.Response:
    return json_reply({"agents": await request.app[DATA].agents()})


async def agent(request: web.Request) -> web.Response:
    found = await request.app[DATA].agent(request.match_info["name"])
    if found is None:
        raise Problem(404, f"no configured agent {request.match_info['name']!r}", field="name")
    return json_reply(found)


async def events(request: web.Request) -> web.Response:
    criteria = {name: request.query.get(name) for name in EventQuery.FIELDS}
    for name, value in criteria.items():
        if value is not None and len(value) > 200:
            raise Problem(400, f"{name} is longer than 200 characters", field=name)
    limit = int_query(request, "limit", 50, high=500)
    return json_reply({"events": await request.app[DATA].attempts.events(EventQuery(**criteria), limit)})


async def timeline(request: web.Request) -> web.Response:
    subject = request.query.get("subject", "")
    if not NAME.match(subject) or "/" not in subject:
        raise Problem(400, "subject must look like call/<id> or interaction/<id>", field="subject")
    return json_reply({"subject": subject, "events": await request.app[DATA].attempts.timeline(subject)})


async def destinations(request: web.Request) -> web.Response:
    data = request.app[DATA]
    minutes = int_query(request, "minutes", 15, high=60)
    stats = await data.attempts.destination_stats(minutes)
    rows = [{**row, "recent": stats.get(row["name"])} for row in await request.app[ADMIN].destination_rows()]
    total, _ = await request.app[ADMIN].retry_depths()
    return json_reply({"destinations": rows, "retries_scheduled": total, "minutes": minutes})


async def dead_letters(request: web.Request) -> web.Response:
    selection = letter_filter(dict(request.query), ids=())
    letters = await request.app[ADMIN].dead_letters(selection)
    data = request.app[DATA]
    return json_reply({"dead_letters": [data.mask(letter.to_dict()) for letter in letters]})


async def dead_letter(request: web.Request) -> web.Response:
    letter = await request.app[ADMIN].dead_letter(request.match_info["id"])
    if letter is None:
        raise Problem(404, f"no dead letter {request.match_info['id']!r}", field="id")
    return json_reply(request.app[DATA].mask(letter.to_dict()))


async def commands(request: web.Request) -> web.Response:
    limit = int_query(request, "limit", 100, high=1000)
    rows = await request.app[DATA].commands(
        limit=limit, agent=request.query.get("agent") or None, client=request.query.get("client") or None
    )
    return json_reply({"commands": rows})


async def audit(request: web.Request) -> web.Response:
    return json_reply(
        {"actions": await request.app[AUDIT].recent(int_query(request, "limit", 200, high=1000))}
    )


async def stream(request: web.Request) -> web.StreamResponse:
    return await request.app[LIVE].serve(request)


# -- the application --------------------------------------------------------------------------------


def create_app(settings: Settings, *, redis: Redis | None = None) -> web.Application:
    """The console as an aiohttp application (its Redis client closes with the app)."""
    client = redis if redis is not None else async_redis(settings)
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
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
