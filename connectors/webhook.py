"""The webhook connector: POST the CloudEvent JSON, signed the Standard Webhooks way.

The body is the event in CloudEvents structured content mode, so its
``content-type`` is the JSON event format's media type,
``application/cloudevents+json; charset=utf-8`` (a destination's ``headers``
may override it for a receiver that accepts only ``application/json``).
Headers on every request:

- ``webhook-id``: the event id, the same on every retry (receivers dedupe on it);
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256>`` per configured ``whsec_`` secret,
  space-separated, so a receiver can rotate its secret without losing events;
- ``traceparent`` (tracing on): the W3C trace context of this delivery attempt.

Only 2xx is success. 410 is permanent and asks for the destination to be
disabled; every other status (3xx included: redirects are not followed) and
every network error is retryable, with the receiver's ``Retry-After`` on 429
and 503. The connector never retries by itself.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import aiohttp
from aiohttp.payload import BytesPayload
from standardwebhooks.webhooks import Webhook

from bridge import tracing
from bridge.config.delivery import DestinationConfig
from bridge.config.secret_refs import resolve_secret
from bridge.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError
from bridge.events import STRUCTURED_CONTENT_TYPE, Event
from connectors import parse_retry_after, register_connector

__all__ = ["WebhookConnector", "parse_retry_after", "signature_headers"]

_RETRY_AFTER_STATUSES = frozenset({429, 503})
#: how much of a failed answer is kept (in the console's attempt record)
EXCERPT_BYTES = 200


class _Signer:
    """One ``whsec_`` secret, checked at start-up, signing with the standardwebhooks reference library."""

    def __init__(self, secret: str) -> None:
        # "whsec_" + base64 of the key. The library would quietly accept garbage; refuse it here.
        encoded = secret.removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError("a webhook secret is not whsec_ followed by base64") from exc
        if not key:
            raise ConfigError("a webhook secret is empty")
        self._webhook = Webhook(secret)

    def sign(self, msg_id: str, when: datetime, text: str) -> str:
        """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
        return self._webhook.sign(msg_id, when, text)


def signature_headers(signers: Sequence[_Signer], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, one ``v1`` signature per signer."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signer.sign(msg_id, when, text) for signer in signers),
    }


@register_connector("webhook")
class WebhookConnector:
    """POSTs each event to ``config.url``.

    ``session`` is shared (one per worker process) and not closed by
    :meth:`aclose`; without one the connector opens and closes its own.
    Raises ``ConfigError`` at construction when the URL is missing or a secret
    reference cannot be resolved.
    """

    kind = "webhook"

    def __init__(
        self,
        config: DestinationConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not config.url:
            raise ConfigError(f"destination {config.name!r}: a webhook needs a url")
        self.name = config.name
        self._url = config.url
        self._signers = [_Signer(resolve_secret(ref, environ=environ)) for ref in config.secrets]
        self._headers = {"content-type": STRUCTURED_CONTENT_TYPE, "user-agent": "gws-bridge"}
        self._headers.update({key.lower(): value for key, value in config.headers.items()})
        self._content_type = self._headers["content-type"]
        self._timeout = aiohttp.ClientTimeout(total=config.timeout, connect=config.connect_timeout)
        self._session = session
        self._owns_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def send(self, event: Event) -> int:
        """POST ``event``; returns the 2xx status; raises ``Retryable``/``PermanentDeliveryError``."""
        return await self.send_json(event.id, event.to_json())

    async def send_json(self, event_id: str, body: bytes) -> int:
        """:meth:`send` for an already serialized event (``Event.to_json()``), as delivery holds it.

        A failure carries the status and the first :data:`EXCERPT_BYTES` of the answer (for the
        operator console).
        """
        headers = dict(self._headers)
        timestamp = int(time.time())
        if self._signers:
            headers.update(signature_headers(self._signers, event_id, timestamp, body))
        else:
            headers["webhook-id"] = event_id
            headers["webhook-timestamp"] = str(timestamp)
        tracing.inject(headers)
        try:
            async with self._client().post(
                self._url,
                data=BytesPayload(body, content_type=self._content_type),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                answer = await response.read()
                status = response.status
                retry_after = response.headers.get("retry-after")
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The URL may carry a token (Slack-style webhook URLs): name the error class only.
            raise RetryableDeliveryError(f"{self.name}: {type(exc).__name__}") from exc
        tracing.set_attribute("http.response.status_code", status)
        if 200 <= status < 300:
            return status
        excerpt = answer[:EXCERPT_BYTES].decode("utf-8", errors="replace")
        if status == 410:
            raise PermanentDeliveryError(
                f"{self.name}: HTTP 410 Gone", disable_destination=True, status=status, excerpt=excerpt
            )
        delay = parse_retry_after(retry_after) if status in _RETRY_AFTER_STATUSES else None
        raise RetryableDeliveryError(
            f"{self.name}: HTTP {status}", retry_after=delay, status=status, excerpt=excerpt
        )

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None
