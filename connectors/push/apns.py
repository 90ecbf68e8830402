"""The APNs connector (kind ``apns``): Apple's HTTP/2 provider API with token authentication.

For each event it pushes to the agent's iOS devices whose filter matches:
``POST <base>/3/device/<token>`` over HTTP/2, with ``authorization: bearer
<provider JWT>`` (cached, see :mod:`connectors.push.tokens`) and the
``apns-topic``, ``apns-push-type``, ``apns-priority``, ``apns-expiration``,
``apns-collapse-id`` headers. Devices registered with ``sandbox`` go to the
sandbox base URL, the others to production.

Apple's answers:

==================================  ============================================
200                                 sent
410 ``Unregistered``/``ExpiredToken`` token removed, ``mobile.token_invalidated``
400/404/405/413 (``BadDeviceToken``  permanent (``PermanentDeliveryError``)
…)
403 ``ExpiredProviderToken``        provider token dropped, retryable
403 other                           retryable (a key/team problem; fix the config)
429, 5xx, network errors            retryable, honouring ``Retry-After``
==================================  ============================================

Options (``[destinations.options]``): ``key`` (``file:`` or ``env:`` reference
to the ``.p8`` key), ``key_id``, ``team_id``, ``topic`` (the app's bundle id),
``production_url``, ``sandbox_url``, ``ca_file`` (extra CA bundle, e.g. for a
test emulator), ``token_refresh`` (seconds, 1200-3600) and the shared
:class:`~connectors.push.options.PushOptions`. ``config.url``, when given,
overrides ``production_url``.
"""

from __future__ import annotations

import logging
import ssl
import time
import uuid
from collections.abc import Callable, Mapping

import aiohttp
import httpx
import orjson
from pydantic import Field

from bridge.config.delivery import DestinationConfig
from bridge.errors import ConfigError
from bridge.events import Event
from bridge.mobile.registry import Device, DeviceRegistry, Platform
from connectors import parse_retry_after, register_connector
from connectors.push.fanout import DeviceOutcome, Emit, PushFanout
from connectors.push.options import PushOptions, parse_options, read_credential
from connectors.push.payload import PushContent, push_content
from connectors.push.tokens import ApnsTokenSigner
from connectors.push.wire import apns_body, apns_headers

__all__ = ["PRODUCTION_URL", "SANDBOX_URL", "ApnsConnector", "ApnsOptions"]

logger = logging.getLogger(__name__)

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"
_GONE = 410
_GONE_REASONS = frozenset({"Unregistered", "ExpiredToken"})
_PERMANENT = frozenset({400, 404, 405, 410, 413})
_ID_NAMESPACE = uuid.UUID("5c0e8f0a-2a57-4f51-8a0b-3f1d2c6e7b94")


class ApnsOptions(PushOptions):
    """``options`` of an ``apns`` destination (see the module docstring)."""

    key: str = Field(min_length=1, description="file:PATH or env:NAME of the .p8 key")
    key_id: str = Field(min_length=1, description="the key's id (10 characters, from Apple)")
    team_id: str = Field(min_length=1, description="the Apple developer team id")
    topic: str = Field(min_length=1, description="the app's bundle id (apns-topic)")
    production_url: str = PRODUCTION_URL
    sandbox_url: str = SANDBOX_URL
    ca_file: str | None = None
    token_refresh: float = Field(default=2400.0, ge=1200.0, le=3600.0)


@register_connector("apns")
class ApnsConnector:
    """Pushes events to the agent's iOS devices through APNs.

    ``registry`` is required (the devices); ``emit`` receives
    ``mobile.token_invalidated`` events. ``session`` (the delivery layer's
    aiohttp session) is accepted for a uniform constructor and not used: APNs
    needs HTTP/2, which this connector speaks through its own ``httpx`` client.
    Raises ``ConfigError`` at construction for a missing registry or bad options.
    """

    kind = "apns"

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
            raise ConfigError(f"destination {config.name!r}: an apns destination needs the device registry")
        options = parse_options(ApnsOptions, config)
        self.name = config.name
        self.options = options
        self._clock = clock
        self.signer = ApnsTokenSigner(
            read_credential(options.key, what="APNs key", environ=environ),
            key_id=options.key_id,
            team_id=options.team_id,
            refresh_after=options.token_refresh,
            clock=clock,
        )
        self._production = (config.url or options.production_url).rstrip("/")
        self._sandbox = options.sandbox_url.rstrip("/")
        verify: ssl.SSLContext | bool = True
        if options.ca_file:
            try:
                verify = ssl.create_default_context(cafile=options.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"destination {config.name!r}: cannot load ca_file {options.ca_file}"
                ) from exc
        self._client = httpx.AsyncClient(
            http1=False,  # APNs speaks HTTP/2 only
            http2=True,
            verify=verify,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            headers={"user-agent": "gws-bridge"},
        )
        self._fanout = PushFanout(
            destination=config.name,
            platform=Platform.IOS,
            registry=registry,
            emit=emit,
            sent_ttl=options.sent_ttl,
            concurrency=min(options.concurrency, config.max_in_flight),
        )

    async def send(self, event: Event) -> None:
        """Push ``event`` to the agent's matching iOS devices; raises a ``DeliveryError`` on failure."""
        content = push_content(
            event, mode=self.options.mode, ttl=self.options.ttl, call_alert_ttl=self.options.call_alert_ttl
        )
        if content is None:
            return
        apns_body(content)  # size check before any device is tried: a too-large payload fails for all

        async def send_one(device: Device, content: PushContent) -> DeviceOutcome:
            return await self._push(device, content, event)

        await self._fanout.deliver(event, content, send_one)

    async def _push(self, device: Device, content: PushContent, event: Event) -> DeviceOutcome:
        base = self._sandbox if device.sandbox else self._production
        headers = apns_headers(content, topic=self.options.topic, now=self._clock())
        headers["authorization"] = f"bearer {self.signer.token()}"
        headers["apns-id"] = str(uuid.uuid5(_ID_NAMESPACE, f"{event.id}/{device.token}"))
        try:
            response = await self._client.post(
                f"{base}/3/device/{device.token}", content=apns_body(content), headers=headers
            )
        except httpx.HTTPError as exc:
            return DeviceOutcome("retryable", f"network: {type(exc).__name__}")
        status = response.status_code
        if status == 200:
            return DeviceOutcome("sent")
        reason = _reason(response.content) or f"HTTP {status}"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == _GONE and reason in _GONE_REASONS:  # Apple's verdict only, not any proxy's 410
            return DeviceOutcome("gone", reason)
        if status in _PERMANENT:
            return DeviceOutcome("permanent", reason)
        if status == 403 and reason == "ExpiredProviderToken":
            self.signer.invalidate()
        return DeviceOutcome("retryable", f"HTTP {status} {reason}", retry_after)

    async def aclose(self) -> None:
        await self._client.aclose()


def _reason(raw: bytes) -> str | None:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    reason = document.get("reason") if isinstance(document, dict) else None
    return reason if isinstance(reason, str) else None
