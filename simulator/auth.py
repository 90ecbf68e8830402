"""HTTP Basic auth, ``JSESSIONID`` sessions with idle expiry, and CSRF tokens, as GWS does them.

A request is authenticated by a live ``JSESSIONID`` cookie or by Basic credentials (which open
a new session and set the cookie). CSRF tokens belong to the session: GET replies carry
``X-CSRF-HEADER``/``X-CSRF-TOKEN``; a POST/PUT/DELETE without the session's token gets 403 when
CSRF is on. ``EndContactCenterSession`` and ``/sim/restart`` drop sessions. A session also
holds its workbin subscriptions (``Subscribe``): they end with it, so a new login must subscribe
again.

The middleware guards everything under ``/api/`` but the version resource — CometD included, as
GWS's one security filter does: a CometD request without credentials gets the REST 401, and a
long-polling POST needs the CSRF token, which GWS's own client sample fetches "prior to starting
Cometd" and sends in CometD's ``requestHeaders`` (seed 002, CSRF example). A websocket upgrade
is a GET: a browser cannot add headers to it, so its session cookie is all it needs.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from simulator.model import SimState, User

__all__ = [
    "ALL_WORKBINS",
    "COOKIE",
    "CSRF_HEADER",
    "SESSION_KEY",
    "USER_KEY",
    "AuthConfig",
    "Session",
    "SessionStore",
    "auth_middleware",
    "cometd_user",
    "user_of",
]

COOKIE = "JSESSIONID"
CSRF_HEADER = "X-CSRF-TOKEN"
_UNPROTECTED = frozenset({"/api/v2/diagnostics/version"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class AuthConfig:
    csrf: bool = True
    session_idle_timeout: float = 1800.0


#: what a workbin ``Subscribe`` without a workbin id (``POST /me/workbins``) subscribes to
ALL_WORKBINS = "*"


@dataclass(slots=True)
class Session:
    id: str
    user_name: str
    csrf_token: str
    last_seen: float
    # workbin ids this HTTP session subscribed to (SubscribeWorkbinEvents), or ALL_WORKBINS
    workbins: set[str] = field(default_factory=set)


class SessionStore:
    """Sessions by id; expiry is checked when a session is used (no sweeper task needed).

    ``logins`` keeps ``(wall-clock time, user name)`` of the latest log-ins (Basic credentials
    that opened a session), for ``GET /sim/logins``: what a login storm looks like to GWS.
    """

    def __init__(self, state: SimState, config: AuthConfig) -> None:
        self.state = state
        self.config = config
        self.sessions: dict[str, Session] = {}
        # sweep expired sessions when the table doubles: amortised O(1) per login, bounded memory
        self._sweep_at = 1024
        self.logins: deque[tuple[float, str]] = deque(maxlen=100_000)

    def open(self, user: User) -> Session:
        session = Session(
            id=secrets.token_hex(16),
            user_name=user.user_name,
            csrf_token=str(uuid.uuid4()),
            last_seen=time.monotonic(),
        )
        self.sessions[session.id] = session
        self.logins.append((time.time(), user.user_name))
        if len(self.sessions) >= self._sweep_at:
            self.sweep()
            self._sweep_at = max(1024, 2 * len(self.sessions))
        return session

    def sweep(self) -> int:
        """Drop every session idle longer than the timeout; returns how many."""
        now = time.monotonic()
        limit = self.config.session_idle_timeout
        expired = [sid for sid, s in self.sessions.items() if now - s.last_seen > limit]
        for sid in expired:
            del self.sessions[sid]
        return len(expired)

    def get(self, session_id: str | None) -> Session | None:
        """The live session ``session_id`` (touched), or None when unknown or idle too long."""
        if not session_id:
            return None
        session = self.sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self.config.session_idle_timeout:
            del self.sessions[session_id]
            return None
        session.last_seen = now
        return session

    def invalidate(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def clear(self) -> int:
        count = len(self.sessions)
        self.sessions.clear()
        return count

    def subscribed_to_workbin(self, user_name: str, workbin_id: str) -> bool:
        """True when a live session of ``user_name`` subscribed to the workbin (or to all of them)."""
        now = time.monotonic()
        limit = self.config.session_idle_timeout
        return any(
            session.user_name == user_name
            and (workbin_id in session.workbins or ALL_WORKBINS in session.workbins)
            and now - session.last_seen <= limit
            for session in self.sessions.values()
        )

    def live_count(self) -> int:
        now = time.monotonic()
        return sum(1 for s in self.sessions.values() if now - s.last_seen <= self.config.session_idle_timeout)

    def check_basic(self, header: str | None) -> User | None:
        """The user whose Basic credentials are in ``header``; None when absent or wrong."""
        if not header or not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, _, password = decoded.partition(":")
        user = self.state.users.get(name)
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return user

    def authenticate(self, request: web.Request) -> tuple[User, Session, bool] | None:
        """``(user, session, is_new)`` for a request, or None (→ 401). Basic wins over a cookie."""
        basic = self.check_basic(request.headers.get("Authorization"))
        session = self.get(request.cookies.get(COOKIE))
        if session is not None and (basic is None or basic.user_name == session.user_name):
            return self.state.users[session.user_name], session, False
        if basic is not None:
            return basic, self.open(basic), True
        return None


USER_KEY = web.RequestKey("gws_user", User)
SESSION_KEY = web.RequestKey("gws_session", Session)


def user_of(request: web.Request) -> User:
    """The authenticated user of a request the auth middleware let through."""
    return request[USER_KEY]


async def cometd_user(request: web.Request) -> str:
    """The Bayeux server's authenticator: the middleware has already refused unauthenticated
    requests (401) and long-polling POSTs without the CSRF token (403)."""
    return user_of(request).user_name


def _json_error(
    status: int, status_code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"statusCode": status_code, "statusMessage": message}),
        content_type="application/json",
        headers=headers,
    )


def auth_middleware(store: SessionStore) -> Any:
    """aiohttp middleware guarding ``/api/`` (CometD included) except the version resource."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/api/") or path in _UNPROTECTED:
            return await handler(request)
        found = store.authenticate(request)
        if found is None:
            return _json_error(401, 20, "User not authenticated", {"WWW-Authenticate": 'Basic realm="GWS"'})
        user, session, is_new = found
        if store.config.csrf and request.method in ("POST", "PUT", "DELETE"):
            token = request.headers.get(CSRF_HEADER)
            if token is None or not secrets.compare_digest(token, session.csrf_token):
                return _json_error(403, 3, "CSRF token is missing or invalid")
        request[USER_KEY] = user
        request[SESSION_KEY] = session
        response = await handler(request)
        if response.prepared:  # a websocket: its upgrade reply is long gone
            return response
        if is_new and session.id in store.sessions:
            response.set_cookie(COOKIE, session.id, path="/", httponly=True)
        if store.config.csrf and session.id in store.sessions:
            response.headers["X-CSRF-HEADER"] = CSRF_HEADER
            response.headers["X-CSRF-TOKEN"] = session.csrf_token
        return response

    return middleware
