"""Who is calling: Bearer API keys (stored as hashes) and Standard Webhooks signatures.

A request is authenticated when its Bearer key hashes to a configured
client's ``api_key_hashes``, or when its ``webhook-signature`` verifies with a
client's signing secret over ``webhook-id.webhook-timestamp.body``, with the
timestamp within ``signature_tolerance``. Signature headers that are present
must verify, even alongside a valid key; a client with ``require_signature``
needs both. An exact replay (same ``webhook-id`` and timestamp) is refused by
the caller through :class:`SignatureSeen`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from bridge.config.inbound import InboundClient, InboundSettings
from bridge.errors import ConfigError
from bridge.inbound.problems import Problem

__all__ = ["Authenticator", "SignatureSeen", "Verified"]

# (client name, webhook-id, timestamp) -> True when seen for the first time
SignatureSeen = Callable[[str, str, str], Awaitable[bool]]


@dataclass(frozen=True)
class Verified:
    """The authenticated client, and whether a signature was verified."""

    client: InboundClient
    signed: bool


def _unauthorized(detail: str) -> Problem:
    challenge = {"WWW-Authenticate": 'Bearer realm="gws-bridge"'}
    return Problem(401, detail, kind="unauthorized", headers=challenge)


class Authenticator:
    """Authenticates requests against :class:`InboundSettings` clients (built once, at startup)."""

    def __init__(self, settings: InboundSettings, *, clock: Callable[[], float] = time.time) -> None:
        self._tolerance = settings.signature_tolerance
        self._clock = clock
        self._by_hash: dict[str, InboundClient] = {}
        self._signers: list[tuple[InboundClient, Webhook]] = []
        for client in settings.clients:
            for digest in client.api_key_hashes:
                self._by_hash[digest] = client
            for secret in client.signing_secrets:
                try:
                    self._signers.append((client, Webhook(secret.get_secret_value())))
                except (EmptyWebhookSecretError, binascii.Error, ValueError) as exc:
                    raise ConfigError(
                        f"inbound client {client.name!r}: a signing secret is not whsec_<base64>"
                    ) from exc

    async def authenticate(
        self, headers: Mapping[str, str], body: bytes, seen: SignatureSeen | None = None
    ) -> Verified:
        """The client a request comes from; raises :class:`Problem` 401 otherwise (reason, never a secret)."""
        client = self._client_for_key(headers.get("Authorization"))
        has_signature = any(h in headers for h in ("webhook-signature", "webhook-id", "webhook-timestamp"))
        if client is not None and not has_signature:
            if client.require_signature:
                raise _unauthorized("this client must sign its requests (webhook-signature)")
            return Verified(client, signed=False)
        if client is None and not has_signature:
            if headers.get("Authorization"):
                raise _unauthorized("invalid API key")
            raise _unauthorized("missing credentials: a Bearer API key or a webhook-signature")
        signer_pool = [(c, w) for c, w in self._signers if client is None or c.name == client.name]
        if not signer_pool:
            raise _unauthorized("a signature was sent but no signing secret is configured for this client")
        if client is None and headers.get("Authorization"):
            raise _unauthorized("invalid API key")
        msg_id, stamp, signed_client = self._verify_signature(headers, body, signer_pool)
        if seen is not None and not await seen(signed_client.name, msg_id, stamp):
            raise _unauthorized("replayed request (webhook-id and timestamp already used)")
        return Verified(signed_client, signed=True)

    def _client_for_key(self, authorization: str | None) -> InboundClient | None:
        if not authorization:
            return None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        digest = "sha256:" + hashlib.sha256(key.strip().encode()).hexdigest()
        return self._by_hash.get(digest)

    def _verify_signature(
        self, headers: Mapping[str, str], body: bytes, pool: list[tuple[InboundClient, Webhook]]
    ) -> tuple[str, str, InboundClient]:
        msg_id = headers.get("webhook-id", "")
        stamp = headers.get("webhook-timestamp", "")
        signature_header = headers.get("webhook-signature", "")
        if not (msg_id and stamp and signature_header) or len(msg_id) > 256:
            raise _unauthorized("incomplete signature headers (webhook-id, -timestamp, -signature)")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise _unauthorized("webhook-timestamp is not an integer") from None
        if abs(self._clock() - timestamp) > self._tolerance:
            raise _unauthorized("webhook-timestamp outside the tolerance (stale or from the future)")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise _unauthorized("signature does not match") from None
        offered: list[bytes] = []
        for item in signature_header.split():
            version, _, value = item.partition(",")
            if version != "v1":
                continue
            try:
                offered.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
        when = datetime.fromtimestamp(timestamp, tz=UTC)
        for client, webhook in pool:
            expected = base64.b64decode(webhook.sign(msg_id, when, text).partition(",")[2])
            if any(hmac.compare_digest(expected, candidate) for candidate in offered):
                return msg_id, stamp, client
        raise _unauthorized("signature does not match")
