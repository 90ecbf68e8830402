"""Hostile requests against a live receiver on the simulator (seeded, bounded in count and time).

Every dialect and route — the JSON and CTI bodies, Slack's two endpoints, the device registry,
unknown paths and methods, and bytes aiohttp cannot parse — gets malformed, oversized, deep,
loosely typed and mis-signed input. For every request: no 5xx; every error is problem+json (the
CTI seed's own error shape excepted); a refused request records no GWS operation; and at the
end no captured log line carries a secret, an attempted credential, or a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import pytest

from bridge.config.slack import SlackInboundSettings
from tests.integration.inbound.conftest import (
    CRM_KEY,
    LIMITED_KEY,
    SECRET,
    ReceiverHandle,
    default_clients,
    raw_exchange,
    signed_headers,
)
from tests.plugins.simulator import SimulatorHandle

SEED = 20261203
REQUESTS = 700
WITHIN_SECONDS = 20.0
SLACK_SECRET = "fuzz-slack-signing-secret-0123456789"
GUESSED_KEY = "guessed-api-key-7f3a9c"  # an attacker's attempt: must not be logged either

SEED_COMMANDS: list[dict[str, Any]] = [
    {"agent": "agent0001", "action": "call.hold", "params": {"call_id": "c1"}},
    {"agent": "agent0001", "action": "agent.not_ready", "params": {"reason": "Lunch"}},
    {"agent": "agent0001", "action": "agent.dnd", "params": {"on": True}},
    {
        "agent": "agent0001",
        "action": "call.attach_data",
        "params": {"call_id": "c1", "user_data": {"a": "b"}},
    },
    {"agent": "agent0001", "action": "call.dial", "params": {"destination": "5002"}},
    {"agent": "agent0001", "action": "session.start", "params": {"channels": ["voice"]}},
]
SEED_CTI: list[dict[str, Any]] = [
    {"channel": "Amazon", "topic": "Call", "subtopic": "Hold", "source": "app", "data": {"CallId": "c1"}},
    {"channel": "Amazon", "topic": "Agent", "subtopic": "SetNotReady", "source": "app", "data": {}},
    {
        "channel": "Amazon",
        "topic": "Call",
        "subtopic": "MakeCall",
        "source": "app",
        "data": {"PhoneNumber": "1"},
    },
]
NASTY: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    0.0,
    2**63,
    -(2**63),
    1e308,
    "",
    " ",
    "\u0000",
    "\u202e",
    "yes",
    "true",
    "1",
    "💥" * 300,
    "../../etc/passwd",
    "%2e%2e%2f",
    "a" * 5000,
    [],
    {},
    [[[]]],
    {"$ne": 1},
    {"k" * 300: 1},
    list(range(1100)),
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/problem+json",
    "",
    "multipart/form-data; boundary=x",
    "application/json; charset",
]


def deep_text(rng: random.Random) -> bytes:
    """Nesting far past the limit, written by hand (orjson will not write it)."""
    levels = rng.choice([33, 60, 340, 1000, 1100])
    opener, closer = rng.choice([("[", "]"), ('{"k":', "}")])
    inner = opener * levels + "1" + closer * levels
    head = '{"agent":"agent0001","action":"call.attach_data","params":{"call_id":"c1","user_data":{"x":'
    return (head + inner + "}}}").encode()


def mutate_document(rng: random.Random, seed: dict[str, Any]) -> bytes:
    document = json.loads(json.dumps(seed))
    kind = rng.randrange(9)
    if kind == 0:  # truncated or bit-flipped text
        raw = bytearray(orjson.dumps(document))
        if rng.random() < 0.5:
            return bytes(raw[: rng.randrange(len(raw))])
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return bytes(raw)
    if kind == 1:  # a top-level field replaced
        document[rng.choice(sorted(document))] = rng.choice(NASTY)
    elif kind == 2:  # a nested field replaced or added
        inner = document.get("params", document.get("data"))
        if isinstance(inner, dict):
            inner[rng.choice([*inner, "user_data", "on", "x", "AgentLogin", "CallId"])] = rng.choice(NASTY)
    elif kind == 3:
        return deep_text(rng)
    elif kind == 4:  # not UTF-8, or a BOM, or UTF-16
        text = orjson.dumps(document)
        return rng.choice([b"\xef\xbb\xbf" + text, text.decode().encode("utf-16"), text[:-3] + b"\xff\xfe}"])
    elif kind == 5:  # JSON that orjson or the stdlib read differently
        return rng.choice(
            [b'{"agent":NaN}', b'{"agent":"a","agent":"b","action":"agent.ready"}', b"1e999999", b"[]" * 500]
        )
    elif kind == 6:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    elif kind == 7:  # many keys
        document["params"] = {f"k{i}": i for i in range(rng.choice([300, 1200]))}
    else:
        document[rng.choice(["id", "dialect", "x" * 300])] = rng.choice(NASTY)
    return json.dumps(document).encode()


class HostileClient:
    """Builds one hostile request at a time; ``send`` returns ``(status, headers, body bytes)``."""

    def __init__(self, receiver: ReceiverHandle, rng: random.Random) -> None:
        self.receiver = receiver
        self.rng = rng
        self.counter = 0

    def auth(self) -> dict[str, str]:
        choice = self.rng.randrange(8)
        if choice <= 3:
            return {"Authorization": f"Bearer {CRM_KEY}"}
        return [
            {},
            {"Authorization": f"Bearer {GUESSED_KEY}"},
            {"Authorization": "Basic " + base64.b64encode(f"crm:{GUESSED_KEY}".encode()).decode()},
            {"Authorization": "Bearer " + "\u00e9" * 10, "webhook-id": "x", "webhook-signature": "v1,zz"},
        ][choice - 4]

    async def send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any, bytes]:
        async with self.receiver.http.request(
            method, self.receiver.url + path, data=body, headers=headers, skip_auto_headers=["Content-Type"]
        ) as response:
            return response.status, response.headers, await response.read()

    async def json_dialect(self) -> tuple[int, Any, bytes]:
        body = mutate_document(self.rng, self.rng.choice(SEED_COMMANDS))
        if self.rng.random() < 0.05:  # over max_body_bytes (64 KiB)
            body = b'{"agent":"' + b"x" * 70_000 + b'"}'
        content_type = "application/json" if self.rng.random() < 0.6 else self.rng.choice(CONTENT_TYPES)
        headers = dict(self.auth(), **{"Content-Type": content_type})
        if self.rng.random() < 0.3:
            headers["Idempotency-Key"] = self.rng.choice(
                ["k" * 300, "a b", "\u00e9", "ok-" + str(self.counter)]
            )
        if self.rng.random() < 0.1:  # a validly signed widget request with a hostile body
            self.counter += 1
            headers = dict(
                signed_headers(body, at=time.time(), msg_id=f"fz{self.counter}") if _utf8(body) else {}
            )
            headers["Content-Type"] = "application/json"
        return await self.send("POST", "/v1/commands", body, headers)

    async def cti(self) -> tuple[int, Any, bytes]:
        seed = dict(self.rng.choice(SEED_CTI), agent="agent0001")
        body = mutate_document(self.rng, seed)
        headers = dict(self.auth(), **{"Content-Type": self.rng.choice(CONTENT_TYPES)})
        return await self.send("POST", "/v1/cti", body, headers)

    async def slack(self) -> tuple[int, Any, bytes]:
        path = self.rng.choice(["/slack/commands", "/slack/interactions", "/slack/events"])
        kind = self.rng.randrange(7)
        if kind == 6:  # an Events API envelope, mutated
            event = {"type": "message", "user": "U0AGENT1", "text": "hi", "ts": "1.2", "thread_ts": "1.1"}
            body = mutate_document(self.rng, {"type": "event_callback", "event_id": "Ev1", "event": event})
        elif kind == 0:
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 300)))
        elif kind == 1:
            body = b"command=%2Fagent&text=ready\xff&user_id=U0NOBODY"
        elif kind == 2:
            body = (
                b"payload="
                + quote(mutate_document(self.rng, {"type": "block_actions", "actions": []})).encode()
            )
        elif kind == 3:
            body = urlencode({f"f{i}": "v" for i in range(self.rng.choice([10, 1001]))}).encode()
        elif kind == 4:
            body = b"text=" + b"x" * 5000 + b"&command=%2Fnope"
        else:
            body = b"a=1&&b=%zz"
        stamp = str(int(time.time()) - self.rng.choice([0, 0, 0, 400]))
        secret = self.rng.choice([SLACK_SECRET, SLACK_SECRET, "wrong-secret"])
        signature = (
            "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        )
        headers = {
            "Content-Type": self.rng.choice(
                ["application/x-www-form-urlencoded", "application/json", *CONTENT_TYPES]
            ),
            "X-Slack-Request-Timestamp": self.rng.choice([stamp, stamp, "", "\uff11\uff12\uff13", "9" * 20]),
            "X-Slack-Signature": self.rng.choice([signature, signature, "", "v0=" + "0" * 64, "v0=é"]),
        }
        return await self.send(self.rng.choice(["POST", "POST", "GET"]), path, body, headers)

    async def mobile(self) -> tuple[int, Any, bytes]:
        seed = {"agent": "agent0001", "platform": "android", "token": "t" * 40}
        choice = self.rng.randrange(3)
        if choice == 0:
            body = mutate_document(self.rng, seed)
            headers = dict(self.auth(), **{"Content-Type": self.rng.choice(CONTENT_TYPES)})
            return await self.send("POST", "/v1/mobile/devices", body, headers)
        if choice == 1:
            token = quote(self.rng.choice(["a" * 5000, "..%2f..", "\u0000", "t" * 40]), safe="")
            return await self.send("DELETE", f"/v1/mobile/devices/{token}", b"", self.auth())
        agent = quote(str(self.rng.choice(NASTY))[:3000])
        return await self.send("GET", f"/v1/mobile/devices?agent={agent}", b"", self.auth())

    async def paths(self) -> tuple[int, Any, bytes]:
        method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST", "TRACE"])
        path = self.rng.choice(
            [
                "/v1/commands/../../etc",
                "/v1/commands/" + "a" * 3000,
                "/%00",
                "/v1//commands",
                "/v1/commands/%2e%2e",
                "/metrics/x",
                "/v1/cti?x=" + "y" * 4000,
                "/slack/commands/",
                "/v1/mobile/devices/a/b",
                "/healthz",
            ]
        )
        return await self.send(method, path, self.rng.randbytes(self.rng.randrange(0, 64)), self.auth())

    async def protocol(self) -> tuple[int, Any, bytes]:
        line = self.rng.choice(
            [
                b"GET / HTTP/1.1",
                b"G\x00T / HTTP/1.1",
                b"GET /" + b"a" * 9000 + b" HTTP/1.1",
                b"GET / HTTP/9.9",
                b"\x16\x03\x01\x00\xa5\x01",
                b"POST /v1/commands HTTP/1.1",
                b"GET  HTTP/1.1",
                b"GET /\xff HTTP/1.1",
            ]
        )
        headers = [b"Host: r"]
        for _ in range(self.rng.randrange(4)):
            headers.append(
                self.rng.choice(
                    [
                        b"X-Big: " + b"b" * 9000,
                        b"X-Nul: a\x00b",
                        b"No-Colon",
                        b"Content-Length: -1",
                        b"Transfer-Encoding: chunked, identity",
                        b"Content-Length: 1\r\nContent-Length: 2",
                        b" folded: continuation",
                        b"Authorization: Bearer " + GUESSED_KEY.encode(),
                    ]
                )
            )
        raw = line + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n"
        status, headers_, body = await raw_exchange(self.receiver.url, raw)
        return status, {"Content-Type": headers_.get("content-type", "")}, body


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _cti_seed_error(path: str, body: bytes) -> bool:
    """The CTI seed's own error document (AGENT_STATE_NOT_FOUND, UPDATE_AGENT_STATE_FAILED)."""
    if not path.startswith("/v1/cti"):
        return False
    document = orjson.loads(body)
    return isinstance(document, dict) and isinstance(document.get("error"), dict)


async def test_hostile_requests_get_problems_no_5xx_no_gws_operation_and_no_secret_in_the_logs(
    receiver_factory: Callable[..., Any], simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clients = default_clients()
    clients[0] = dict(clients[0], rate_limit=100_000, burst=100_000)
    slack = SlackInboundSettings(
        signing_secret=SLACK_SECRET,
        users={"U0AGENT1": "agent0001"},
        response_url_prefixes=["http://127.0.0.1:9/"],
    )
    receiver: ReceiverHandle = await receiver_factory(clients=clients, slack=slack)
    rng = random.Random(SEED)
    client = HostileClient(receiver, rng)
    targets = [
        client.json_dialect,
        client.json_dialect,
        client.cti,
        client.slack,
        client.mobile,
        client.paths,
        client.protocol,
    ]
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + WITHIN_SECONDS
    sent = 0
    await simulator.log(clear=True)
    while sent < REQUESTS and time.monotonic() < deadline:
        target = rng.choice(targets)
        status, headers, body = await target()
        sent += 1
        statuses[status] = statuses.get(status, 0) + 1
        operations = [e for e in await simulator.log(clear=True) if e["method"] != "GET"]
        content_type = headers.get("Content-Type", "")
        what = (target.__name__, status, body[:300])
        if status < 400:
            assert not operations or target in (client.json_dialect, client.cti), what
            continue
        problem: dict[str, Any] = orjson.loads(body) if body else {}
        if target == client.cti and _cti_seed_error("/v1/cti", body):
            continue  # the seed's shape; it may follow a GWS refusal
        assert content_type.startswith("application/problem+json"), what
        assert problem.get("status") == status, what
        reached_gws = problem.get("type", "").endswith("/gws-error")
        assert status < 500 or reached_gws, what
        assert not operations or reached_gws, (what, operations)
    assert sent >= 200, f"only {sent} requests within {WITHIN_SECONDS} s"
    assert {400, 401, 404, 405, 413, 415, 422} <= set(statuses), statuses
    secrets = [
        CRM_KEY,
        LIMITED_KEY,
        SECRET,
        SECRET.removeprefix("whsec_"),
        SLACK_SECRET,
        GUESSED_KEY,
        base64.b64encode(f"agent0001:{simulator.password}".encode()).decode(),
    ]
    for record in caplog.records:
        assert record.exc_info is None and record.levelno < logging.ERROR, (record.name, record.getMessage())
        logged = record.getMessage() + repr(record.__dict__)
        assert not [s for s in secrets if s in logged], (record.name, record.getMessage())
