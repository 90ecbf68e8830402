"""The HTTP transport that one agent's GWS REST client (:class:`bridge.gws.rest.GwsRestClient`) owns.

Credentials, TLS and timeouts; the client's own cookie jar and aiohttp session (opened lazily
on a possibly shared connector); one exchange that sends Basic auth and the CSRF header and
captures the CSRF token of every reply; the retry policy for GETs and unsent requests
described in :mod:`bridge.gws.rest`; and the redaction that keeps passwords, Authorization
values, CSRF tokens and session ids out of every error raised here. Login and the session
lifecycle live in :mod:`bridge.gws.rest`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import random
import ssl
from typing import Any

import aiohttp
from yarl import URL

from bridge.errors import ConfigError, GwsError, GwsTransportError
from bridge.gws.errors import parse_reply

__all__ = ["Reply", "RestTransport"]

logger = logging.getLogger(__name__)

_MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_DEFAULT_CSRF_HEADER = "X-CSRF-TOKEN"
# Connection failures where the request certainly never left this process.
_NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
# Certificate problems do not go away by retrying.
_PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorCertificateError,
    aiohttp.ClientSSLError,
    aiohttp.InvalidURL,
)


class Reply:
    """One HTTP exchange's answer: status, raw body, ``Retry-After`` seconds if any."""

    __slots__ = ("raw", "retry_after", "status")

    def __init__(self, status: int, raw: bytes, retry_after: float | None) -> None:
        self.status = status
        self.raw = raw
        self.retry_after = retry_after


class RestTransport:
    """HTTP exchanges of one GWS user; see :class:`~bridge.gws.rest.GwsRestClient` for the arguments.

    It holds what every exchange needs — credentials, TLS, timeouts, the cookie jar, the CSRF
    token last captured — and never decides about logins: that is the client's job.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        session: aiohttp.ClientSession | None = None,
        connector: aiohttp.BaseConnector | None = None,
        timeout: float = 10.0,
        verify_tls: bool = True,
        ca_file: str | None = None,
        get_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if get_retries < 0:
            raise ValueError("get_retries must be >= 0")
        self._base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self._connector = connector if connector is not None else (session.connector if session else None)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl: ssl.SSLContext | bool = True
        if ca_file is not None:
            try:
                self._ssl = _ssl_context(ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"gws.ca_file {ca_file}: cannot load CA bundle: {exc}") from exc
        elif not verify_tls:
            self._ssl = False
        self._get_retries = get_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._session: aiohttp.ClientSession | None = None
        self._jar: aiohttp.CookieJar | None = None
        #: ``(header name, token)`` last captured from GWS; the client clears it when CSRF is off
        self.csrf: tuple[str, str] | None = None
        #: replies that carried a token so far, so a login can tell "CSRF off"
        self.csrf_replies = 0
        self._closed = False

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def username(self) -> str:
        return self._username

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value (Basic credentials)."""
        return self._authorization

    @property
    def ssl(self) -> ssl.SSLContext | bool:
        """How GWS's certificate is verified (the ``ssl`` argument of aiohttp requests): the same
        for every connection to GWS, REST and CometD alike."""
        return self._ssl

    def api_url(self, path: str) -> str:
        """Absolute URL of ``path`` (relative to ``/api/v2``, or starting with ``/api/``)."""
        if not path.startswith("/"):
            path = "/" + path
        if path.startswith("/api/"):
            return self._base_url + path
        return f"{self._base_url}/api/v2{path}"

    def parse(self, attempt: Reply, context: str) -> dict[str, Any]:
        try:
            return parse_reply(attempt.status, attempt.raw, context=context)
        except GwsError as exc:
            self._redact(exc)
            raise

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise GwsTransportError(f"GWS client for {self._username} is closed")
            self._jar = aiohttp.CookieJar(unsafe=True)
            self._session = aiohttp.ClientSession(
                connector=self._connector,
                connector_owner=self._connector is None,
                cookie_jar=self._jar,
                timeout=self._timeout,
            )
        return self._session

    async def send(
        self, method: str, path: str, params: dict[str, Any] | None, body: bytes | None, context: str,
        content_type: str = "application/json",
    ) -> Reply:  # fmt: skip
        """One request with the retry policy of :mod:`bridge.gws.rest`; returns the raw reply."""
        retries = 0
        while True:
            retry_after: float | None = None
            try:
                attempt = await self._exchange(method, path, params, body, content_type)
            except _PERMANENT_ERRORS as exc:
                raise self._transport_error(context, exc) from exc
            except _NOT_SENT_ERRORS as exc:
                if retries >= self._get_retries:
                    raise self._transport_error(context, exc) from exc
                error: BaseException = exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                if method in _MUTATING or retries >= self._get_retries:
                    raise self._transport_error(context, exc) from exc
                error = exc
            else:
                if attempt.status != 503 or method in _MUTATING or retries >= self._get_retries:
                    return attempt
                retry_after = attempt.retry_after
                error = GwsTransportError("HTTP 503", http_status=503)
            delay = self.backoff(retries, retry_after)
            retries += 1
            logger.warning(
                "gws request retried",
                extra={
                    "agent": self._username,
                    "method": method,
                    "path": path,
                    "retry": retries,
                    "delay": round(delay, 3),
                    "error": type(error).__name__,
                },
            )
            await asyncio.sleep(delay)

    async def _exchange(
        self, method: str, path: str, params: dict[str, Any] | None, body: bytes | None, content_type: str
    ) -> Reply:
        session = self._ensure_session()
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        if self.csrf is not None:
            headers[self.csrf[0]] = self.csrf[1]
        if body is not None:
            headers["Content-Type"] = content_type
        async with session.request(
            method,
            self.api_url(path),
            params=_query(params),
            data=body,
            headers=headers,
            ssl=self._ssl,
            allow_redirects=False,
        ) as response:
            raw = await response.read()
            self._capture_csrf(response.headers)
            logger.debug(
                "gws request",
                extra={
                    "agent": self._username,
                    "method": method,
                    "path": path,
                    "http_status": response.status,
                },
            )
            return Reply(response.status, raw, _retry_after(response.headers.get("Retry-After")))

    def _capture_csrf(self, headers: Any) -> None:
        token = headers.get("X-CSRF-TOKEN")
        if token:
            name = headers.get("X-CSRF-HEADER") or _DEFAULT_CSRF_HEADER
            self.csrf = (name, token)
            self.csrf_replies += 1

    def cookie_header(self) -> str:
        if self._jar is None:
            return ""
        cookies = self._jar.filter_cookies(URL(self._base_url + "/api/v2/"))
        return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())

    def backoff(self, retries: int, retry_after: float | None) -> float:
        """Seconds before retry number ``retries + 1``: ``Retry-After`` (capped) or jittered doubling."""
        if retry_after is not None:
            return min(self._backoff_cap, max(0.0, retry_after))
        ceiling = min(self._backoff_cap, self._backoff_base * (2**retries))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def forget_session(self) -> None:
        """Drop the cookie and the CSRF token: the next exchange starts a new HTTP session."""
        self.csrf = None
        if self._jar is not None:
            self._jar.clear()

    async def aclose(self) -> None:
        """Close the HTTP session for good (a shared connector stays open)."""
        self._closed = True
        self.csrf = None
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _secrets(self) -> list[str]:
        secrets = [self._password, self._authorization, self._authorization.split(" ", 1)[1]]
        if self.csrf is not None:
            secrets.append(self.csrf[1])
        if self._jar is not None:
            secrets.extend(
                morsel.value for morsel in self._jar.filter_cookies(URL(self._base_url + "/")).values()
            )
        return [secret for secret in secrets if secret and len(secret) >= 3]

    def _scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _redact(self, exc: GwsError) -> None:
        exc.message = self._scrub(exc.message)
        exc.args = (exc.message,)

    def _transport_error(self, context: str, exc: BaseException) -> GwsTransportError:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            detail = f"no reply within {self._timeout.total} s"
        error = GwsTransportError(f"{context}: cannot reach GWS at {self._base_url}: {detail}")
        self._redact(error)
        return error


@functools.lru_cache(maxsize=8)
def _ssl_context(ca_file: str) -> ssl.SSLContext:
    # One context per bundle for the whole process: thousands of agents share it.
    return ssl.create_default_context(cafile=ca_file)


def _query(params: dict[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    query: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            query[key] = ",".join(str(item) for item in value)
        else:
            query[key] = str(value)
    return query


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None
