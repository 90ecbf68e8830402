"""A mock Slack on loopback (aiohttp), recording every call, as bolt-python's own tests do.

Fixture ``slack_api`` yields a :class:`MockSlack` serving:

- the Web API at ``base_url`` (``/api/<method>``): ``chat.postMessage`` (answers a fresh ``ts``),
  ``chat.update`` (``message_not_found`` for an unknown ``ts``), anything else ``{"ok": true}``;
  a token other than :data:`BOT_TOKEN` gets ``invalid_auth``;
- incoming webhooks at ``webhook_url`` (``/hooks/…``, answers ``ok``);
- ``response_url`` targets at ``response_url(name)`` (``/response/…``).

``fail_next(path_part, status=429, retry_after=2)`` makes the next matching requests fail.
Every request is a :class:`SlackCall` in ``calls`` with its arrival time.

What Slack sends the bridge, for tests posting to the receiver: :func:`signed_headers` (the ``v0``
signature of a raw body), :func:`event_callback` (an Events API envelope) and
:func:`block_action` (a button click's ``payload`` form).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import pytest
from aiohttp import web

from tests.plugins.ports import free_port

__all__ = ["BOT_TOKEN", "MockSlack", "SlackCall", "block_action", "event_callback", "signed_headers"]

BOT_TOKEN = "xoxb-test-token-0000"


def signed_headers(body: bytes, secret: str, *, at: float | None = None) -> dict[str, str]:
    """Slack's ``v0`` signature headers for ``body`` (form-encoded content type; override for JSON)."""
    stamp = str(int(time.time() if at is None else at))
    # Slack's v0 scheme on the raw bytes (slack_sdk's generator decodes them: UTF-8 bodies only)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """An Events API ``event_callback`` carrying ``event``, as Slack sends it."""
    envelope = {
        "token": "unused-verification-token",
        "team_id": "T0TEAM",
        "api_app_id": "A0BRIDGE",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0TEAM", "user_id": "U0BRIDGEBOT", "is_bot": True}],
    }
    return orjson.dumps(envelope)


def block_action(button: dict[str, Any], *, user: str, response_url: str, channel: str) -> bytes:
    """The form body of ``user`` clicking ``button`` (a Block Kit element the bridge rendered)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "someone"},
        "trigger_id": uuid.uuid4().hex,
        "response_url": response_url,
        "container": {"type": "message", "channel_id": channel},
        "actions": [
            {"action_id": button["action_id"], "block_id": "b", "value": button["value"], "type": "button"}
        ],
    }
    return urlencode({"payload": orjson.dumps(payload).decode()}).encode()


@dataclass
class SlackCall:
    """One request the mock received."""

    path: str
    method: str  # Web API method, "webhook" or "response"
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int = 200


@dataclass
class _Failure:
    path_part: str
    status: int
    error: str
    retry_after: float | None
    times: int


@dataclass
class MockSlack:
    """The running mock: its URLs, what it received, and failure injection."""

    url: str
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> latest message body
    _failures: list[_Failure] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/hooks/T000/B000/secretpart"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    def fail_next(
        self,
        path_part: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: float | None = 2,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests whose path contains ``path_part`` fail this way."""
        self._failures.append(_Failure(path_part, status, error, retry_after, times))

    def of(self, method: str) -> list[SlackCall]:
        """Successful calls of ``method`` (``chat.postMessage``, ``webhook``, ``response``…)."""
        return [c for c in self.calls if c.method == method and c.status == 200]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[SlackCall]:
        """Wait (bounded) until ``count`` successful calls of ``method`` arrived."""
        deadline = time.monotonic() + within
        while len(self.of(method)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{method}: {len(self.of(method))} of {count} calls within {within}s")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass
        return self.of(method)

    # -- the server --------------------------------------------------------------------------------

    def _failure_for(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path_part in path and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.content_type == "application/json":
            body = orjson.loads(raw) if raw else {}
        else:
            body = dict(parse_qsl(raw.decode()))
        path = request.path
        if path.startswith("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/hooks/"):
            method = "webhook"
        else:
            method = "response"
        call = SlackCall(path, method, body, dict(request.headers), time.monotonic())
        self.calls.append(call)
        self._arrived.set()
        failure = self._failure_for(path)
        if failure is not None:
            call.status = failure.status
            headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
            if method in ("webhook", "response"):
                return web.Response(status=failure.status, text=failure.error, headers=headers)
            document = {"ok": False, "error": failure.error}
            return web.json_response(document, status=failure.status, headers=headers)
        if method in ("webhook", "response"):
            return web.Response(text="ok")
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            call.status = 401
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[ts] = body
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts, "message": body})
        if method == "chat.update":
            ts = str(body.get("ts"))
            if ts not in self.messages:
                call.status = 404
                return web.json_response({"ok": False, "error": "message_not_found"})
            self.messages[ts] = body
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})
        return web.json_response({"ok": True})


@pytest.fixture
async def slack_api() -> AsyncIterator[MockSlack]:
    """A :class:`MockSlack` on ``127.0.0.1:<free port>`` for the test."""
    port = free_port()
    mock = MockSlack(f"http://127.0.0.1:{port}")
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", mock.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield mock
    finally:
        await runner.cleanup()
