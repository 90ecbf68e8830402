"""The FCM connector (kind ``fcm``): Firebase Cloud Messaging HTTP v1.

For each event it pushes to the agent's Android devices whose filter matches:
``POST <api_url>/v1/projects/<project>/messages:send`` with ``authorization:
Bearer <access token>`` (an OAuth2 token obtained with the service account and
cached, see :mod:`connectors.push.tokens`). The message carries ``data``
(string values only), ``android.collapse_key``, ``android.ttl`` and
``android.priority``, plus ``notification`` for alerts in default mode.

FCM's answers (the ``FcmError`` code in ``error.details`` wins over ``error.status``):

===============================================  =====================================================
200                                              sent
404 / ``UNREGISTERED``                           token removed, ``mobile.token_invalidated`` emitted
400 ``INVALID_ARGUMENT``, 403 ``SENDER_ID_…``    permanent (``PermanentDeliveryError``)
401 (``THIRD_PARTY_AUTH_ERROR``, expired token)  access token dropped, retryable
429 ``QUOTA_EXCEEDED``, 5xx ``UNAVAILABLE``,     retryable, honouring ``Retry-After``
``INTERNAL``, network errors
token endpoint ``invalid_grant`` (credentials)   permanent, the destination is disabled
===============================================  =====================================================

Options: ``service_account`` (``file:`` or ``env:`` reference to the JSON key),
``project_id`` (defaults to the key's), ``api_url``, ``token_uri`` (defaults to
the key's) and the shared :class:`~connectors.push.options.PushOptions`.
``config.url``, when given, overrides ``api_url``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import aiohttp
import orjson
from pydantic import Field

from bridge.config.delivery import DestinationConfig
from bridge.errors import ConfigError, RetryableDeliveryError
from bridge.events import Event
from bridge.mobile.registry import Device, DeviceRegistry, Platform
from connectors import parse_retry_after, register_connector
from connectors.push.fanout import DeviceOutcome, Emit, PushFanout
from connectors.push.options import PushOptions, parse_options, read_credential
from connectors.push.payload import PushContent, push_content
from connectors.push.tokens import GoogleAccessTokens, ServiceAccount
from connectors.push.wire import fcm_message

__all__ = ["API_URL", "FcmConnector", "FcmOptions"]

API_URL = "https://fcm.googleapis.com"
_GONE_CODES = frozenset({"UNREGISTERED"})
_PERMANENT_CODES = frozenset({"INVALID_ARGUMENT", "SENDER_ID_MISMATCH", "NOT_FOUND", "PERMISSION_DENIED"})


class FcmOptions(PushOptions):
    """``options`` of an ``fcm`` destination (see the module docstring)."""

    service_account: str = Field(min_length=1, description="file:PATH or env:NAME of the JSON key")
    project_id: str | None = None
    api_url: str = API_URL
    token_uri: str | None = None


@register_connector("fcm")
class FcmConnector:
    """Pushes events to the agent's Android devices through FCM HTTP v1.

    ``registry`` is required; ``emit`` receives ``mobile.token_invalidated``
    events. ``session`` is shared (one per worker) and not closed by
    :meth:`aclose`; without one the connector opens its own. Raises
    ``ConfigError`` at construction for a missing registry, bad options or an
    unreadable service account.
    """

    kind = "fcm"

    def __init__(
        self,
        config: DestinationConfig,
        *,
        registry: DeviceRegistry | None = None,
        emit: Emit | None = None,
        session: aiohttp.ClientSession | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if registry is None:
            raise ConfigError(f"destination {config.name!r}: an fcm destination needs the device registry")
        options = parse_options(FcmOptions, config)
        account = ServiceAccount.from_json(
            read_credential(options.service_account, what="FCM service account", environ=environ)
        )
        self.name = config.name
        self.options = options
        self.project_id = options.project_id or account.project_id
        self._send_url = (
            f"{(config.url or options.api_url).rstrip('/')}/v1/projects/{self.project_id}/messages:send"
        )
        self._timeout = aiohttp.ClientTimeout(total=config.timeout, connect=config.connect_timeout)
        self._session = session
        self._owns_session = session is None
        self.tokens = GoogleAccessTokens(
            account, session=self._client, token_uri=options.token_uri, timeout=self._timeout, clock=clock
        )
        self._fanout = PushFanout(
            destination=config.name,
            platform=Platform.ANDROID,
            registry=registry,
            emit=emit,
            sent_ttl=options.sent_ttl,
            concurrency=min(options.concurrency, config.max_in_flight),
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def send(self, event: Event) -> None:
        """Push ``event`` to the agent's matching Android devices; raises a ``DeliveryError`` on failure."""
        content = push_content(
            event, mode=self.options.mode, ttl=self.options.ttl, call_alert_ttl=self.options.call_alert_ttl
        )
        if content is None:
            return
        fcm_message(content, "")  # size check before any device is tried

        async def send_one(device: Device, content: PushContent) -> DeviceOutcome:
            return await self._push(device, content)

        await self._fanout.deliver(event, content, send_one)

    async def _push(self, device: Device, content: PushContent) -> DeviceOutcome:
        body = orjson.dumps(fcm_message(content, device.token))
        try:
            access_token = await self.tokens.token()
        except RetryableDeliveryError as exc:  # a refused credential (permanent) fails the event
            return DeviceOutcome("retryable", str(exc))
        headers = {
            "authorization": f"Bearer {access_token}",
            "content-type": "application/json; charset=UTF-8",
            "user-agent": "gws-bridge",
        }
        try:
            async with self._client().post(
                self._send_url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status = response.status
                retry_after = parse_retry_after(response.headers.get("retry-after"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            return DeviceOutcome("retryable", f"network: {type(exc).__name__}")
        if status == 200:
            return DeviceOutcome("sent")
        code = _error_code(raw) or f"HTTP {status}"
        if code in _GONE_CODES:  # only FCM's own verdict: a wrong URL's 404 must not prune every token
            return DeviceOutcome("gone", code)
        if status == 401:
            self.tokens.invalidate()
            return DeviceOutcome("retryable", f"HTTP 401 {code}", retry_after)
        if code in _PERMANENT_CODES or status in (400, 403, 404):
            return DeviceOutcome("permanent", code)
        return DeviceOutcome("retryable", f"HTTP {status} {code}", retry_after)

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


def _error_code(raw: bytes) -> str | None:
    """The FCM error code: ``details[].errorCode`` of the ``FcmError`` if any, else ``error.status``."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("errorCode"), str):
            return str(detail["errorCode"])
    status = error.get("status")
    return status if isinstance(status, str) else None
