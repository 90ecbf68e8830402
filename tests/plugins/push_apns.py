"""The APNs emulator: Apple's provider API over HTTP/2 + TLS on loopback.

``ApnsEmulator`` speaks HTTP/2 over TLS (ALPN ``h2``, the self-signed
certificate from :mod:`tests.plugins.push_keys`), built directly on the ``h2``
library: it verifies the provider JWT (ES256) against the public key of its
``kid``, the ``iss`` team and the token's age, Apple's renewal rule (a new
token less than 20 minutes after the previous one is ``429
TooManyProviderTokenUpdates``), the ``apns-*`` headers and the payload size,
answers ``400 BadDeviceToken`` for a malformed token and ``410 Unregistered``
for a revoked one, and records every request. Scripted answers (``script``) serve the 429/5xx tests.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from bridge.config.delivery import DestinationConfig
from tests.plugins.push_keys import KEY_ID, TEAM_ID, TOPIC, PushKeys, Scripted

__all__ = ["ApnsEmulator", "ApnsRequest"]

_APNS_TOKEN = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class ApnsRequest:
    """One request the APNs emulator received, and what it answered."""

    method: str
    path: str
    token: str | None
    headers: dict[str, str]
    body: bytes
    alpn: str | None
    status: int = 0
    reason: str | None = None

    @property
    def payload(self) -> Any:
        return orjson.loads(self.body)


class _H2Server(asyncio.Protocol):
    """One HTTP/2 connection: collects each stream's headers and body, answers at END_STREAM."""

    def __init__(self, emulator: ApnsEmulator) -> None:
        self._emulator = emulator
        self._conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self._transport: asyncio.Transport | None = None
        self._alpn: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        ssl_object = transport.get_extra_info("ssl_object")
        self._alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        self._emulator.connections += 1
        self._emulator.transports.add(transport)
        self._conn.initiate_connection()
        transport.write(self._conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._emulator.transports.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            events = self._conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._transport.write(self._conn.data_to_send())
            self._transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._streams[event.stream_id] = (
                    {str(k): str(v) for k, v in event.headers or []},
                    bytearray(),
                )
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self._streams:
                    self._streams[event.stream_id][1].extend(event.data or b"")
                self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self._streams:
                headers, body = self._streams.pop(event.stream_id)
                self._respond(event.stream_id, headers, bytes(body))
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._transport.close()
        self._transport.write(self._conn.data_to_send())

    def _respond(self, stream_id: int, headers: dict[str, str], body: bytes) -> None:
        status, document, extra = self._emulator.answer(headers, body, self._alpn)
        blob = orjson.dumps(document) if document is not None else b""
        response = [(":status", str(status)), ("apns-id", headers.get("apns-id") or str(uuid.uuid4()))]
        response += list(extra.items())
        if blob:
            response += [("content-type", "application/json"), ("content-length", str(len(blob)))]
        self._conn.send_headers(stream_id, response, end_stream=not blob)
        if blob:
            self._conn.send_data(stream_id, blob, end_stream=True)


class ApnsEmulator:
    """Apple's provider API on ``https://127.0.0.1:<port>`` (see the module docstring)."""

    def __init__(self, keys: PushKeys, *, topic: str = TOPIC, team_id: str = TEAM_ID) -> None:
        self.keys = keys
        self.topic = topic
        self.team_id = team_id
        self.public_keys: dict[str, ec.EllipticCurvePublicKey] = {KEY_ID: keys.apns_public_key}
        self.revoked: set[str] = set()
        self.requests: list[ApnsRequest] = []
        self.provider_tokens: list[str] = []  # distinct provider JWTs, in the order first seen
        self.script: deque[Scripted] = deque()
        self.connections = 0
        self.transports: set[asyncio.Transport] = set()
        self._last_iat: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.keys.tls_cert_path, self.keys.tls_key_path)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _H2Server(self), "127.0.0.1", 0, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self.transports):
                transport.close()
            await self._server.wait_closed()
            self._server = None

    def destination(
        self, name: str = "apns", *, sandbox_url: str | None = None, **options: Any
    ) -> DestinationConfig:
        """A ``DestinationConfig`` pointing at this emulator (``options`` override the defaults)."""
        base: dict[str, Any] = {
            "key": f"file:{self.keys.apns_key_path}",
            "key_id": KEY_ID,
            "team_id": self.team_id,
            "topic": self.topic,
            "production_url": self.url,
            "sandbox_url": sandbox_url or self.url,
            "ca_file": str(self.keys.tls_cert_path),
        }
        return DestinationConfig(name=name, kind="apns", options={**base, **options})

    def answer(
        self, headers: dict[str, str], body: bytes, alpn: str | None
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        path = headers.get(":path", "")
        match = re.fullmatch(r"/3/device/([^/?]+)", path)
        record = ApnsRequest(
            method=headers.get(":method", ""),
            path=path,
            token=match.group(1) if match else None,
            headers={k: v for k, v in headers.items() if not k.startswith(":")},
            body=body,
            alpn=alpn,
        )
        self.requests.append(record)
        status, reason, extra = self._verdict(record)
        record.status, record.reason = status, reason
        if status == 200:
            return 200, None, extra
        document: dict[str, Any] = {"reason": reason}
        if status == 410:
            document["timestamp"] = int(time.time() * 1000)
        return status, document, extra

    def _verdict(self, r: ApnsRequest) -> tuple[int, str | None, dict[str, str]]:
        if r.method != "POST":
            return 405, "MethodNotAllowed", {}
        if r.token is None:
            return 404, "BadPath", {}
        auth_problem = self._check_provider_token(r.headers.get("authorization"))
        if auth_problem is not None:
            return auth_problem
        h = r.headers
        if "apns-topic" not in h:
            return 400, "MissingTopic", {}
        if h["apns-topic"] != self.topic:
            return 400, "BadTopic", {}
        push_type = h.get("apns-push-type")
        if push_type not in ("alert", "background"):
            return 400, "InvalidPushType", {}
        priority = h.get("apns-priority", "10")
        if priority not in ("5", "10") or (push_type == "background" and priority != "5"):
            return 400, "BadPriority", {}
        if not h.get("apns-expiration", "0").isdigit():
            return 400, "BadExpirationDate", {}
        if len(h.get("apns-collapse-id", "").encode()) > 64:
            return 400, "BadCollapseId", {}
        if "apns-id" in h:
            try:
                uuid.UUID(h["apns-id"])
            except ValueError:
                return 400, "BadMessageId", {}
        if not r.body:
            return 400, "PayloadEmpty", {}
        if len(r.body) > 4096:
            return 413, "PayloadTooLarge", {}
        try:
            payload = orjson.loads(r.body)
        except orjson.JSONDecodeError:
            return 400, "PayloadEmpty", {}
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            return 400, "PayloadEmpty", {}
        if not _APNS_TOKEN.match(r.token):
            return 400, "BadDeviceToken", {}
        if r.token in self.revoked:
            return 410, "Unregistered", {}
        if self.script:
            forced = self.script.popleft()
            return forced.status, (forced.body or {}).get("reason"), forced.headers
        return 200, None, {}

    def _check_provider_token(self, authorization: str | None) -> tuple[int, str, dict[str, str]] | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return 403, "MissingProviderToken", {}
        token = authorization[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
            key = self.public_keys[header.get("kid", "")]
            claims = jwt.decode(
                token, key, algorithms=["ES256"], options={"require": ["iat", "iss"], "verify_iat": False}
            )
        except (jwt.PyJWTError, KeyError):
            return 403, "InvalidProviderToken", {}
        if claims["iss"] != self.team_id or not isinstance(claims["iat"], int):
            return 403, "InvalidProviderToken", {}
        if time.time() - claims["iat"] > 3600:
            return 403, "ExpiredProviderToken", {}
        if token not in self.provider_tokens:
            previous = self._last_iat.get(header["kid"])
            if previous is not None and claims["iat"] - previous < 20 * 60:
                return 429, "TooManyProviderTokenUpdates", {}
            self.provider_tokens.append(token)
            self._last_iat[header["kid"]] = claims["iat"]
        return None
