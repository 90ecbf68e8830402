"""Local APNs and FCM emulators for the push tests, on loopback only.

``ApnsEmulator`` speaks HTTP/2 over TLS (ALPN ``h2``, a self-signed
certificate made here with ``cryptography``), built directly on the ``h2``
library: it verifies the provider JWT (ES256) against the public key of its
``kid``, the ``iss`` team and the token's age, Apple's renewal rule (a new
token less than 20 minutes after the previous one is ``429
TooManyProviderTokenUpdates``), the ``apns-*`` headers and the payload size,
answers ``400 BadDeviceToken`` for a malformed token and ``410 Unregistered``
for a revoked one, and records every request.

``FcmEmulator`` is an aiohttp app: ``POST /token`` checks the service-account
assertion (RS256, ``iss``, ``aud``, ``scope``, lifetime) and issues access
tokens; ``POST /v1/projects/<id>/messages:send`` checks the bearer token, the
project and the message (``data`` values are strings, ``android.collapse_key``
and ``android.ttl`` are present and well-formed, 4 KB), answers ``404
UNREGISTERED`` for a revoked token, and records every request.

Both take scripted answers (``script``) for 429/5xx tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import ssl
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import jwt
import orjson
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bridge.delivery.config import DestinationConfig

__all__ = ["ApnsEmulator", "FcmEmulator", "PushKeys", "Scripted"]

TEAM_ID = "TEAM123456"
KEY_ID = "KEY0000001"
TOPIC = "com.example.gwsagent"
PROJECT_ID = "gwsb-test"
CLIENT_EMAIL = "push@gwsb-test.iam.gserviceaccount.com"
PRIVATE_KEY_ID = "0123456789abcdef0123456789abcdef01234567"
_APNS_TOKEN = re.compile(r"^[0-9a-f]{64}$")
_FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:.-]{32,4096}$")
_FCM_TTL = re.compile(r"^\d+(\.\d{1,9})?s$")


@dataclass(frozen=True)
class PushKeys:
    """Key files for one test session: the APNs ``.p8`` key, a service account, a TLS pair."""

    apns_key_path: Path
    apns_public_key: ec.EllipticCurvePublicKey
    service_account_path: Path
    service_account_public_key: rsa.RSAPublicKey
    tls_cert_path: Path
    tls_key_path: Path


@dataclass(frozen=True)
class Scripted:
    """A forced answer: ``status``, JSON ``body`` and extra ``headers``."""

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _write_keys(folder: Path) -> PushKeys:
    apns_key = ec.generate_private_key(ec.SECP256R1())
    apns_key_path = folder / f"AuthKey_{KEY_ID}.p8"
    apns_key_path.write_bytes(
        apns_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account_path = folder / "service-account.json"
    pem = sa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account_path.write_bytes(
        orjson.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": PRIVATE_KEY_ID,
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1234567890",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    tls_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gwsb push emulator")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(tls_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls-cert.pem", folder / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        tls_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return PushKeys(
        apns_key_path=apns_key_path,
        apns_public_key=apns_key.public_key(),
        service_account_path=account_path,
        service_account_public_key=sa_key.public_key(),
        tls_cert_path=cert_path,
        tls_key_path=key_path,
    )


# --------------------------------------------------------------------------------------------- APNs


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


# ---------------------------------------------------------------------------------------------- FCM


@dataclass
class FcmRequest:
    """One ``messages:send`` the FCM emulator received, and its answer."""

    project: str
    authorization: str | None
    body: Any
    status: int = 0
    error: str | None = None


def _fcm_error(status: int, google_status: str, message: str, fcm_code: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
    if fcm_code is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        ]
    return web.json_response({"error": error}, status=status)


class FcmEmulator:
    """FCM HTTP v1 and Google's OAuth token endpoint on ``http://127.0.0.1:<port>``."""

    def __init__(self, keys: PushKeys, *, token_lifetime: int = 3599) -> None:
        self.keys = keys
        self.token_lifetime = token_lifetime
        self.revoked: set[str] = set()
        self.requests: list[FcmRequest] = []
        self.token_requests = 0
        self.access_tokens: dict[str, float] = {}  # token -> expiry (Unix time)
        self.script: deque[Scripted] = deque()
        self.clock: Callable[[], float] = time.time  # tests share a fake clock with the connector
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_post("/v1/projects/{project}/messages:send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def destination(self, name: str = "fcm", **options: Any) -> DestinationConfig:
        """A ``DestinationConfig`` pointing at this emulator (``options`` override the defaults)."""
        base = {
            "service_account": f"file:{self.keys.service_account_path}",
            "api_url": self.url,
            "token_uri": self.token_uri,
        }
        return DestinationConfig(name=name, kind="fcm", options={**base, **options})

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        assertion = str(form.get("assertion", ""))
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("kid") != PRIVATE_KEY_ID:
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt.decode(
                assertion,
                self.keys.service_account_public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                # times are checked below against self.clock, which a test may move
                options={
                    "require": ["iss", "aud", "iat", "exp", "scope"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        if (
            claims["iss"] != CLIENT_EMAIL
            or "https://www.googleapis.com/auth/firebase.messaging" not in str(claims["scope"]).split()
        ):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "bad iss/scope"}, status=400
            )
        if not claims["iat"] - 60 <= self.clock() < claims["exp"] or claims["exp"] - claims["iat"] > 3600:
            return web.json_response({"error": "invalid_grant", "error_description": "lifetime"}, status=400)
        token = f"ya29.emu-{uuid.uuid4().hex}"
        self.access_tokens[token] = self.clock() + self.token_lifetime
        return web.json_response(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    async def _send(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        record = FcmRequest(project=request.match_info["project"], authorization=authorization, body=None)
        self.requests.append(record)
        response = await self._verdict(request, record)
        record.status = response.status
        if response.status != 200 and response.body is not None:
            error = orjson.loads(response.body)["error"]  # type: ignore[arg-type]
            details = error.get("details") or [{}]
            record.error = details[0].get("errorCode") or error["status"]
        return response

    async def _verdict(self, request: web.Request, record: FcmRequest) -> web.Response:
        auth = record.authorization or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if self.access_tokens.get(token, 0) < self.clock():
            return _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if record.project != PROJECT_ID:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.")
        try:
            record.body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        message = record.body.get("message") if isinstance(record.body, dict) else None
        if not isinstance(message, dict):
            return _fcm_error(400, "INVALID_ARGUMENT", "message is required")
        if sum(1 for k in ("token", "topic", "condition") if k in message) != 1:
            return _fcm_error(400, "INVALID_ARGUMENT", "exactly one of token, topic, condition")
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return _fcm_error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data' (TYPE_STRING)")
        android = message.get("android")
        if not isinstance(android, dict) or not isinstance(android.get("collapse_key"), str):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.collapse_key is required here")
        if not isinstance(android.get("ttl"), str) or not _FCM_TTL.match(android["ttl"]):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.ttl must be a duration like '30s'")
        if str(android.get("priority", "NORMAL")).upper() not in ("NORMAL", "HIGH"):
            return _fcm_error(400, "INVALID_ARGUMENT", "android.priority")
        if len(orjson.dumps({"data": data, "notification": message.get("notification")})) > 4096:
            return _fcm_error(400, "INVALID_ARGUMENT", "Message is too big", "INVALID_ARGUMENT")
        device = message["token"]
        if not isinstance(device, str) or not _FCM_TOKEN.match(device):
            return _fcm_error(
                400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )  # fmt: skip
        if device in self.revoked:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if self.script:
            forced = self.script.popleft()
            return web.json_response(forced.body or {}, status=forced.status, headers=forced.headers)
        return web.json_response({"name": f"projects/{PROJECT_ID}/messages/0:{uuid.uuid4().hex}"})


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def push_keys(tmp_path_factory: pytest.TempPathFactory) -> PushKeys:
    """Key material for the session (APNs .p8, service account JSON, TLS pair)."""
    return _write_keys(tmp_path_factory.mktemp("push-keys"))


@pytest.fixture
async def apns_emulator_factory(push_keys: PushKeys) -> AsyncIterator[Callable[..., Awaitable[ApnsEmulator]]]:
    """``await apns_emulator_factory(**kwargs)`` starts another APNs emulator; all stop afterwards."""
    started: list[ApnsEmulator] = []

    async def start(**kwargs: Any) -> ApnsEmulator:
        emulator = ApnsEmulator(push_keys, **kwargs)
        await emulator.start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        await emulator.close()


@pytest.fixture
async def apns_emulator(apns_emulator_factory: Callable[..., Awaitable[ApnsEmulator]]) -> ApnsEmulator:
    """A running APNs emulator."""
    return await apns_emulator_factory()


@pytest.fixture
async def fcm_emulator(push_keys: PushKeys) -> AsyncIterator[FcmEmulator]:
    """A running FCM (+ OAuth token endpoint) emulator."""
    emulator = FcmEmulator(push_keys)
    await emulator.start()
    yield emulator
    await emulator.close()
