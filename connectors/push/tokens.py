"""Credentials for APNs and FCM, cached: a provider JWT for APNs, an OAuth access token for FCM.

APNs (token-based authentication): an ES256 JWT with ``kid`` = key id,
``iss`` = team id and ``iat``, signed with the ``.p8`` key. Apple rejects a
token older than an hour (``ExpiredProviderToken``) and one renewed more often
than every 20 minutes (``TooManyProviderTokenUpdates``), so one token is reused
for every push and replaced after ``refresh_after`` seconds (20-60 min).

FCM HTTP v1: a service-account JWT (RS256, ``iss`` = client e-mail, ``aud`` =
token URI, ``scope`` = firebase.messaging) is exchanged at the token URI with
the JWT-bearer grant for an access token, which is reused until
``refresh_margin`` seconds before it expires.

Keys and tokens never appear in logs or error messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bridge.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError

__all__ = ["FCM_SCOPE", "ApnsTokenSigner", "GoogleAccessTokens", "ServiceAccount"]

logger = logging.getLogger(__name__)

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# OAuth errors about the credentials themselves (RFC 6749 5.2), as Google's token endpoint sends them
_CREDENTIAL_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
Clock = Callable[[], float]


class ApnsTokenSigner:
    """The APNs provider token, made once and reused until it is ``refresh_after`` seconds old.

    Raises ``ConfigError`` at construction when the key is not a P-256 private
    key in PEM (the ``.p8`` file Apple hands out) or the refresh age is outside
    20-60 minutes. ``generated`` counts the tokens made so far.
    """

    MIN_REFRESH = 20 * 60
    MAX_REFRESH = 60 * 60

    def __init__(
        self,
        key_pem: str | bytes,
        *,
        key_id: str,
        team_id: str,
        refresh_after: float = 40 * 60,
        clock: Clock = time.time,
    ) -> None:
        if not self.MIN_REFRESH <= refresh_after <= self.MAX_REFRESH:
            raise ConfigError(
                f"APNs token refresh must be between {self.MIN_REFRESH} and {self.MAX_REFRESH} seconds "
                f"(got {refresh_after:g}): Apple refuses older tokens and more frequent renewals"
            )
        if not key_id or not team_id:
            raise ConfigError("APNs token authentication needs key_id and team_id")
        try:
            key = serialization.load_pem_private_key(
                key_pem.encode() if isinstance(key_pem, str) else key_pem, password=None
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError("APNs key is not a PEM private key (the .p8 file from Apple)") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ConfigError("APNs key must be an EC P-256 key (the .p8 file from Apple)")
        self._key = key
        self.key_id = key_id
        self.team_id = team_id
        self.refresh_after = refresh_after
        self._clock = clock
        self._token: str | None = None
        self._issued_at = 0.0
        self.generated = 0

    def token(self) -> str:
        """The current provider JWT (a new one only when the cached one reached ``refresh_after``)."""
        now = self._clock()
        if self._token is None or now - self._issued_at >= self.refresh_after:
            issued = int(now)
            self._token = jwt.encode(
                {"iss": self.team_id, "iat": issued},
                self._key,
                algorithm="ES256",
                headers={"kid": self.key_id},
            )
            self._issued_at = float(issued)
            self.generated += 1
            logger.info("apns provider token issued", extra={"key_id": self.key_id, "iat": issued})
        return self._token

    def invalidate(self) -> None:
        """Drop the cached token (APNs said ``ExpiredProviderToken``); the next push makes a new one."""
        self._token = None


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a Google service-account JSON key that FCM needs (``private_key`` is PEM)."""

    client_email: str
    private_key: str
    private_key_id: str
    project_id: str
    token_uri: str

    @classmethod
    def from_json(cls, text: str | bytes) -> ServiceAccount:
        """Parse the JSON key file; raises ``ConfigError`` naming the missing field (never a value)."""
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ConfigError("FCM service account is not JSON") from exc
        if not isinstance(document, dict):
            raise ConfigError("FCM service account must be a JSON object")
        values: dict[str, str] = {}
        for name in ("client_email", "private_key", "private_key_id", "project_id"):
            value = document.get(name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"FCM service account has no {name}")
            values[name] = value
        token_uri = document.get("token_uri") or "https://oauth2.googleapis.com/token"
        return cls(token_uri=str(token_uri), **values)


class GoogleAccessTokens:
    """OAuth2 access tokens for FCM, fetched with a service-account assertion and cached.

    ``session`` returns the aiohttp session to use (the connector's).
    :meth:`token` raises ``RetryableDeliveryError`` when the token endpoint
    cannot be reached or fails, and ``PermanentDeliveryError`` that disables the
    destination when it refuses the credentials themselves (``invalid_grant``,
    ``invalid_client``, ``unauthorized_client``): the message names the OAuth
    error, never the assertion. ``fetched`` counts the exchanges made so far.
    """

    def __init__(
        self,
        account: ServiceAccount,
        *,
        session: Callable[[], aiohttp.ClientSession],
        token_uri: str | None = None,
        scope: str = FCM_SCOPE,
        refresh_margin: float = 300.0,
        timeout: aiohttp.ClientTimeout | None = None,
        clock: Clock = time.time,
    ) -> None:
        try:
            key = serialization.load_pem_private_key(account.private_key.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError("FCM service account private_key is not a PEM private key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("FCM service account private_key must be an RSA key")
        self._key = key
        self._account = account
        self._session = session
        self.token_uri = token_uri or account.token_uri
        self._scope = scope
        self._margin = refresh_margin
        self._timeout = timeout or aiohttp.ClientTimeout(total=10)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetched = 0

    def assertion(self) -> str:
        """A fresh signed service-account JWT for the token endpoint."""
        now = int(self._clock())
        claims = {
            "iss": self._account.client_email,
            "scope": self._scope,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._account.private_key_id})

    async def token(self) -> str:
        """A valid access token, from the cache unless it expires within ``refresh_margin`` seconds."""
        if self._token is not None and self._clock() < self._expires_at - self._margin:
            return self._token
        async with self._lock:  # one exchange at a time; the others reuse its result
            if self._token is not None and self._clock() < self._expires_at - self._margin:
                return self._token
            self._token, self._expires_at = await self._exchange()
            return self._token

    def invalidate(self) -> None:
        """Drop the cached token (FCM answered 401); the next call fetches a new one."""
        self._token = None

    async def _exchange(self) -> tuple[str, float]:
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}
        started = self._clock()
        try:
            async with self._session().post(self.token_uri, data=form, timeout=self._timeout) as response:
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryableDeliveryError(f"FCM token endpoint: {type(exc).__name__}") from exc
        document: Any
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = {}
        if not isinstance(document, dict):
            document = {}
        if status != 200:
            reason = document.get("error") if isinstance(document.get("error"), str) else "no error code"
            if reason in _CREDENTIAL_ERRORS:  # RFC 6749 5.2: retrying the same assertion cannot help
                raise PermanentDeliveryError(
                    f"FCM token endpoint refused the service account: HTTP {status} {reason} "
                    "(revoked or deleted key, wrong account, or clock skew); fix the credentials, "
                    "then `gws-bridge destinations enable`",
                    disable_destination=True,
                )
            raise RetryableDeliveryError(
                f"FCM token endpoint refused the service account: HTTP {status} {reason}"
            )
        access_token = document.get("access_token")
        expires_in = document.get("expires_in", 3600)
        if not isinstance(access_token, str) or not access_token or not isinstance(expires_in, int | float):
            raise RetryableDeliveryError("FCM token endpoint answered without an access_token")
        self.fetched += 1
        logger.info("fcm access token fetched", extra={"expires_in": expires_in})
        return access_token, started + float(expires_in)
