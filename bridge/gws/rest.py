"""One GWS REST client per agent, on aiohttp.

Session handling follows GWS 8.5.2 (seed 002, "Cross Site Request Forgery Protection"):

* Every request carries HTTP Basic credentials, so a lost HTTP session is re-created by GWS.
* ``JSESSIONID`` lives in a cookie jar of this client alone (``unsafe=True``: aiohttp's default
  jar drops cookies set by IP hosts such as ``127.0.0.1``), even when the TCP connector is
  shared between many clients.
* The CSRF header name and token (``X-CSRF-HEADER`` / ``X-CSRF-TOKEN``) are captured from any
  reply and sent on every request (GWS checks them on POST/PUT/DELETE).
* A 401/403 (or GWS statusCode 20) is a refusal: GWS did not act on the request ("on error
  nothing was modified", 002:3458), so the client logs in again once (``GET /me``, which
  re-reads the CSRF token and opens a new HTTP session if the old one is gone) and retries
  once, POSTs included. A second refusal is raised.
* A successful EndContactCenterSession (however it was sent) drops the cookie and the token:
  GWS invalidates that HTTP session; the next request logs in again.
* A GET is retried on 503 and on connection errors with capped exponential backoff and jitter.
  A POST/PUT/DELETE is retried only when the connection could not even be opened (nothing was
  sent); a timeout or a dropped connection after sending is raised, never blindly repeated.

Nothing here logs or raises a password, an Authorization value, a CSRF token or a session id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

from bridge.config.gws import GwsSettings
from bridge.gws.login_rate import LoginRateLimiter
from bridge.gws.rest_transport import Reply, RestTransport

if TYPE_CHECKING:
    from bridge.gws.operations.request import FileUpload, GwsRequest

__all__ = ["GwsRestClient"]

logger = logging.getLogger(__name__)


class GwsRestClient:
    """The REST session of one GWS user (agent).

    ``base_url`` is the GWS root without ``/api/v2``. ``connector`` (or the connector of
    ``session``) is a TCP pool shared with other clients; cookies are never shared: each client
    has its own jar. The aiohttp session is opened lazily, inside the running event loop.
    ``timeout`` bounds each HTTP exchange (seconds). ``ca_file`` (PEM bundle) verifies GWS's
    certificate and wins over ``verify_tls``; ``verify_tls=False`` disables verification.
    ``get_retries``, ``backoff_base`` and ``backoff_cap`` shape the retry policy above.
    ``login_limiter``: every log-in (``GET /me``) waits for it first (shared by a pool's clients).
    Raises ``ValueError`` for a bad timeout or retry count, ``ConfigError`` for an unreadable
    ``ca_file``.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        login_limiter: LoginRateLimiter | None = None,
        **transport: Any,
    ) -> None:
        """``transport``: the keyword arguments above, for the :class:`RestTransport` this client owns."""
        self._login_limiter = login_limiter
        self._http = RestTransport(base_url, username, password, **transport)
        self._username = username
        self._logged_in = False
        self._login_lock = asyncio.Lock()
        self._login_generation = 0
        self._user: dict[str, Any] = {}

    @classmethod
    def from_settings(
        cls,
        gws: GwsSettings,
        username: str,
        password: str,
        *,
        connector: aiohttp.BaseConnector | None = None,
        login_limiter: LoginRateLimiter | None = None,
    ) -> GwsRestClient:
        """A client configured by ``[gws]``: timeout, retries and TLS (``ca_file``, ``verify_tls``)."""
        return cls(
            gws.base_url,
            username,
            password,
            connector=connector,
            login_limiter=login_limiter,
            timeout=gws.request_timeout,
            verify_tls=gws.verify_tls,
            ca_file=gws.ca_file,
            get_retries=gws.get_retries,
            backoff_base=gws.retry_backoff,
            backoff_cap=gws.retry_backoff_cap,
        )

    def __repr__(self) -> str:
        return f"GwsRestClient({self._http.base_url!r}, {self._username!r}, logged_in={self._logged_in})"

    # -- state -----------------------------------------------------------------------------

    @property
    def username(self) -> str:
        """The GWS user name this client acts as."""
        return self._username

    @property
    def base_url(self) -> str:
        """GWS root URL, without ``/api/v2`` and without a trailing slash."""
        return self._http.base_url

    @property
    def ssl(self) -> ssl.SSLContext | bool:
        """How GWS's certificate is verified; the CometD clients use the same."""
        return self._http.ssl

    def api_url(self, path: str) -> str:
        """Absolute URL of ``path`` (relative to ``/api/v2``, or starting with ``/api/``)."""
        return self._http.api_url(path)

    @property
    def csrf(self) -> tuple[str, str] | None:
        """``(header name, token)`` captured from GWS, or ``None`` when CSRF is off or unknown."""
        return self._http.csrf

    @property
    def logged_in(self) -> bool:
        """True after a successful :meth:`login` until :meth:`forget_session` or :meth:`aclose`."""
        return self._logged_in

    @property
    def login_generation(self) -> int:
        """How many log-ins succeeded so far: a new value means a new GWS session (cookie, token)."""
        return self._login_generation

    @property
    def user(self) -> dict[str, Any]:
        """The ``user`` object GWS returned at the last login (``{}`` before)."""
        return self._user

    def cometd_headers(self) -> dict[str, str]:
        """Headers a CometD auth extension sends: Authorization, Cookie (JSESSIONID), CSRF."""
        headers = {"Authorization": self._http.authorization}
        cookie = self._http.cookie_header()
        if cookie:
            headers["Cookie"] = cookie
        csrf = self._http.csrf
        if csrf is not None:
            headers[csrf[0]] = csrf[1]
        return headers

    def forget_session(self) -> None:
        """Drop the HTTP session and CSRF token (after EndContactCenterSession, 002:533-540)."""
        self._logged_in = False
        self._http.forget_session()

    # -- public requests ---------------------------------------------------------------------

    async def login(self) -> dict[str, Any]:
        """``GET /api/v2/me`` with Basic auth; capture JSESSIONID and CSRF; return the ``user``.

        Raises ``GwsNotAuthenticatedError`` when the credentials are refused, another
        ``GwsError`` subclass on other failures, ``GwsTransportError`` when GWS is unreachable.
        """
        async with self._login_lock:
            return await self._login_locked()

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        upload: FileUpload | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Send one request; return the parsed body of any success envelope (``{}`` if empty).

        ``path`` is relative to ``/api/v2`` (e.g. ``"/me/calls"``). Logs in first when not
        logged in. Raises a ``GwsError`` subclass mapped from the GWS statusCode or HTTP
        status, ``GwsTransportError`` when GWS cannot be reached or answers garbage.
        """
        method = method.upper()
        context = f"{method} {path} as {self._username}"
        if not self._logged_in:
            await self._relogin(self._login_generation)
        generation = self._login_generation
        body = orjson.dumps(json) if json is not None else None
        content_type = "application/json"
        if upload is not None:  # a file instead of JSON (the Attachments API)
            body, content_type = upload.multipart(secrets.token_hex(16))
        attempt = await self._http.send(method, path, params, body, context, content_type)
        if self._is_auth_refusal(attempt):
            logger.info(
                "gws session refused, logging in again",
                extra={
                    "agent": self._username,
                    "method": method,
                    "path": path,
                    "http_status": attempt.status,
                },
            )
            await self._relogin(generation)
            attempt = await self._http.send(method, path, params, body, context, content_type)
        reply = self._http.parse(attempt, context)
        if _ends_http_session(method, path, json):
            # GWS invalidates the HTTP session and its CSRF token (002:533-540, 003:4631).
            self.forget_session()
        return reply

    async def perform(self, request: GwsRequest) -> dict[str, Any]:
        """Send a built operation's request (:mod:`bridge.gws.operations.builders`); as :meth:`request`."""
        return await self.request(
            request.method, request.path, params=request.params, json=request.body, upload=request.upload
        )

    async def get(self, path: str, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """``request("GET", path, params=params)``."""
        return await self.request("GET", path, params=params)

    async def post(
        self, path: str, json: Any = None, *, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``request("POST", path, json=json)``."""
        return await self.request("POST", path, params=params, json=json)

    async def put(
        self, path: str, json: Any = None, *, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``request("PUT", path, json=json)``."""
        return await self.request("PUT", path, params=params, json=json)

    async def delete(
        self, path: str, json: Any = None, *, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``request("DELETE", path, json=json)`` (GWS settings deletes carry a JSON body)."""
        return await self.request("DELETE", path, params=params, json=json)

    async def aclose(self) -> None:
        """Close this client's HTTP session (a shared connector stays open)."""
        self._logged_in = False
        await self._http.aclose()

    async def __aenter__(self) -> GwsRestClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- internals -----------------------------------------------------------------------------

    async def _login_locked(self) -> dict[str, Any]:
        context = f"GET /me (login) as {self._username}"
        # The cookie is kept: a live HTTP session is reused (no session churn on a 403 that was
        # not about CSRF); an expired one is replaced by GWS because Basic credentials are sent.
        # The token is re-read; concurrent requests keep sending the old one meanwhile. A login
        # reply without a token means CSRF is off.
        self._logged_in = False
        if self._login_limiter is not None:
            await self._login_limiter.acquire()
        tokens_seen = self._http.csrf_replies
        attempt = await self._http.send("GET", "/me", None, None, context)
        body = self._http.parse(attempt, context)
        if self._http.csrf_replies == tokens_seen:
            self._http.csrf = None
        user = body.get("user")
        self._user = user if isinstance(user, dict) else body
        self._logged_in = True
        self._login_generation += 1
        logger.info(
            "gws login",
            extra={
                "agent": self._username,
                "csrf": self._http.csrf is not None,
                "session": bool(self._http.cookie_header()),
            },
        )
        return self._user

    async def _relogin(self, seen_generation: int) -> None:
        async with self._login_lock:
            # Another request may have logged in again while we waited for the lock.
            if self._logged_in and self._login_generation != seen_generation:
                return
            await self._login_locked()

    @staticmethod
    def _is_auth_refusal(attempt: Reply) -> bool:
        if attempt.status in (401, 403):
            return True
        if attempt.status == 200 and b"statusCode" in attempt.raw:
            try:
                body = orjson.loads(attempt.raw)
            except orjson.JSONDecodeError:
                return False
            return isinstance(body, dict) and body.get("statusCode") in (20, "20")
        return False


def _ends_http_session(method: str, path: str, json: Any) -> bool:
    return (
        method == "POST"
        and path.rstrip("/") in ("/me", "/api/v2/me")
        and isinstance(json, dict)
        and json.get("operationName") == "EndContactCenterSession"
    )
