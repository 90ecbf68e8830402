"""GwsRestClient against a small real aiohttp server on loopback that behaves like GWS.

The stub keeps JSESSIONID sessions with a CSRF token each (401 without credentials, 403 on a
mutating request without the session's token), replays scripted replies taken from the seeds,
and records every request it received.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from bridge.errors import GwsTransportError
from bridge.gws.errors import (
    GwsInvalidParameterError,
    GwsMissingParameterError,
    GwsNotAuthenticatedError,
    GwsPermissionDeniedError,
    GwsReplyError,
    GwsServiceUnavailableError,
)
from bridge.gws.rest import GwsRestClient
from tests.plugins.ports import free_port

ENVELOPES = Path(__file__).parents[2] / "fixtures" / "gws_rest" / "envelopes"
PASSWORD = "Pa55-w0rd-that-must-not-leak"


@dataclass
class Received:
    method: str
    path: str
    query: str
    cookie: str | None
    csrf: str | None
    authorization: bool
    body: Any


@dataclass
class StubGws:
    """State of the stub server; tests script replies and read ``received``."""

    base_url: str = ""
    csrf: bool = True
    users: dict[str, str] = field(default_factory=lambda: {"agent0001": PASSWORD, "agent0002": PASSWORD})
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (user, token)
    received: list[Received] = field(default_factory=list)
    script: dict[tuple[str, str], list[tuple[int, bytes]]] = field(default_factory=dict)
    delay: float = 0.0
    drop: int = 0  # this many next requests get their connection closed without a reply

    def reply(self, method: str, path: str, status: int, body: bytes | dict | str) -> None:
        raw = (
            body
            if isinstance(body, bytes)
            else body.encode()
            if isinstance(body, str)
            else orjson.dumps(body)
        )
        self.script.setdefault((method, path), []).append((status, raw))

    def restart(self) -> None:
        self.sessions.clear()

    def calls(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if r.method == method and r.path == path]


def _user_from_basic(stub: StubGws, header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return name if stub.users.get(name) == password else None


def _app(stub: StubGws) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        stub.received.append(
            Received(
                request.method,
                request.path,
                request.query_string,
                request.cookies.get("JSESSIONID"),
                request.headers.get("X-CSRF-TOKEN"),
                "Authorization" in request.headers,
                orjson.loads(raw) if raw else None,
            )
        )
        if stub.delay:
            await asyncio.sleep(stub.delay)
        if stub.drop:
            stub.drop -= 1
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError
        session_id = request.cookies.get("JSESSIONID")
        new_session = None
        if session_id not in stub.sessions:
            user = _user_from_basic(stub, request.headers.get("Authorization"))
            if user is None:
                return web.json_response(
                    {"statusCode": 20, "statusMessage": "User not authenticated"}, status=401
                )
            session_id = secrets.token_hex(8)
            stub.sessions[session_id] = (user, secrets.token_hex(8))
            new_session = session_id
        assert session_id is not None
        user, token = stub.sessions[session_id]
        if stub.csrf and request.method != "GET" and request.headers.get("X-CSRF-TOKEN") != token:
            return web.Response(status=403, text="CSRF token is missing or invalid")
        scripted = stub.script.get((request.method, request.path))
        if scripted:
            status, body = scripted.pop(0)
            response = web.Response(status=status, body=body, content_type="application/json")
        elif request.method == "GET" and request.path == "/api/v2/me":
            response = web.json_response({"statusCode": 0, "user": {"userName": user, "id": f"id-{user}"}})
        else:
            response = web.json_response({"statusCode": 0})
        if new_session:
            response.set_cookie("JSESSIONID", new_session, path="/")
        if stub.csrf and request.method == "GET":
            response.headers["X-CSRF-HEADER"] = "X-CSRF-TOKEN"
            response.headers["X-CSRF-TOKEN"] = token
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.fixture
async def stub() -> AsyncIterator[StubGws]:
    state = StubGws()
    runner = web.AppRunner(_app(state))
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    state.base_url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(stub: StubGws) -> AsyncIterator[GwsRestClient]:
    gws = GwsRestClient(
        stub.base_url, "agent0001", PASSWORD, timeout=2.0, backoff_base=0.01, backoff_cap=0.05
    )
    try:
        yield gws
    finally:
        await gws.aclose()


async def test_login_captures_session_cookie_on_an_ip_host_and_csrf(
    stub: StubGws, client: GwsRestClient
) -> None:
    user = await client.login()
    assert user == {"userName": "agent0001", "id": "id-agent0001"}
    assert client.logged_in
    (session_id,) = stub.sessions
    assert client.csrf == ("X-CSRF-TOKEN", stub.sessions[session_id][1])
    await client.post("/me/channels/voice", {"operationName": "Ready"})
    post = stub.calls("POST", "/api/v2/me/channels/voice")[0]
    assert post.cookie == session_id  # the jar kept JSESSIONID for 127.0.0.1
    assert post.csrf == stub.sessions[session_id][1]
    assert post.body == {"operationName": "Ready"}
    assert len(stub.sessions) == 1


async def test_cometd_headers_carry_auth_cookie_and_csrf(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    (session_id,) = stub.sessions
    headers = client.cometd_headers()
    expected_auth = "Basic " + base64.b64encode(f"agent0001:{PASSWORD}".encode()).decode()
    assert headers == {
        "Authorization": expected_auth,
        "Cookie": f"JSESSIONID={session_id}",
        "X-CSRF-TOKEN": stub.sessions[session_id][1],
    }


async def test_first_request_logs_in_by_itself(stub: StubGws, client: GwsRestClient) -> None:
    await client.post("/me", {"operationName": "Ready"})
    assert [(r.method, r.path) for r in stub.received] == [("GET", "/api/v2/me"), ("POST", "/api/v2/me")]


async def test_after_a_server_restart_a_post_logs_in_again_and_is_sent_again_once(
    stub: StubGws, client: GwsRestClient
) -> None:
    await client.login()
    old_token = client.csrf
    stub.restart()
    reply = await client.post("/me/calls/c1", {"operationName": "Hold"})
    assert reply == {"statusCode": 0}
    assert [(r.method, r.path) for r in stub.received] == [
        ("GET", "/api/v2/me"),
        ("POST", "/api/v2/me/calls/c1"),  # refused: stale CSRF token (403)
        ("GET", "/api/v2/me"),  # login again
        ("POST", "/api/v2/me/calls/c1"),  # sent once more, accepted
    ]
    assert client.csrf != old_token
    assert stub.received[-1].csrf == client.csrf[1] if client.csrf else False


async def test_a_second_refusal_is_raised_not_retried_forever(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    stub.reply("POST", "/api/v2/me", 403, {"statusCode": 5, "statusMessage": "No permission"})
    stub.reply("POST", "/api/v2/me", 403, {"statusCode": 5, "statusMessage": "No permission"})
    with pytest.raises(GwsPermissionDeniedError) as caught:
        await client.post("/me", {"operationName": "Ready"})
    assert (caught.value.status_code, caught.value.http_status) == (5, 403)
    assert "No permission" in caught.value.message
    assert len(stub.calls("POST", "/api/v2/me")) == 2


async def test_concurrent_refusals_log_in_again_only_once(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    stub.restart()
    replies = await asyncio.gather(
        *(client.post(f"/me/calls/c{i}", {"operationName": "Hold"}) for i in range(5))
    )
    assert replies == [{"statusCode": 0}] * 5
    assert len(stub.calls("GET", "/api/v2/me")) == 2


async def test_wrong_password_is_not_authenticated(stub: StubGws) -> None:
    async with GwsRestClient(stub.base_url, "agent0001", "wrong-password") as gws:
        with pytest.raises(GwsNotAuthenticatedError) as caught:
            await gws.login()
    assert (caught.value.status_code, caught.value.http_status) == (20, 401)
    assert len(stub.received) == 1


async def test_get_is_retried_on_503_until_it_succeeds(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    unavailable = (ENVELOPES / "rest_voice_error_http503.json").read_bytes()
    stub.reply("GET", "/api/v2/me/calls", 503, unavailable)
    stub.reply("GET", "/api/v2/me/calls", 503, unavailable)
    stub.reply("GET", "/api/v2/me/calls", 200, {"statusCode": 0, "calls": []})
    assert await client.get("/me/calls", params={"fields": "*"}) == {"statusCode": 0, "calls": []}
    calls = stub.calls("GET", "/api/v2/me/calls")
    assert len(calls) == 3
    assert calls[0].query == "fields=*"


async def test_get_retries_are_capped(stub: StubGws) -> None:
    unavailable = (ENVELOPES / "rest_voice_error_http503.json").read_bytes()
    for _ in range(5):
        stub.reply("GET", "/api/v2/me/devices", 503, unavailable)
    async with GwsRestClient(stub.base_url, "agent0001", PASSWORD, get_retries=2, backoff_base=0.01) as gws:
        await gws.login()
        with pytest.raises(GwsServiceUnavailableError) as caught:
            await gws.get("/me/devices")
    assert caught.value.status_code == 4
    assert "Voice service is not available at this time" in str(caught.value)
    assert len(stub.calls("GET", "/api/v2/me/devices")) == 3


async def test_post_is_never_repeated_on_503(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    unavailable = (ENVELOPES / "rest_voice_error_http503.json").read_bytes()
    stub.reply("POST", "/api/v2/me/devices/d1/calls", 503, unavailable)
    with pytest.raises(GwsServiceUnavailableError):
        await client.post(
            "/me/devices/d1/calls", {"operationName": "Dial", "destination": {"phoneNumber": "5001"}}
        )
    assert len(stub.calls("POST", "/api/v2/me/devices/d1/calls")) == 1


async def test_post_that_times_out_is_not_repeated(stub: StubGws) -> None:
    async with GwsRestClient(stub.base_url, "agent0001", PASSWORD, timeout=0.3) as gws:
        await gws.login()
        stub.delay = 1.0
        with pytest.raises(GwsTransportError) as caught:
            await gws.post("/me/calls/c1", {"operationName": "Hangup"})
        assert "no reply within 0.3 s" in str(caught.value)
    assert len(stub.calls("POST", "/api/v2/me/calls/c1")) == 1


async def test_get_that_times_out_is_retried(stub: StubGws) -> None:
    async with GwsRestClient(
        stub.base_url, "agent0001", PASSWORD, timeout=0.2, get_retries=1, backoff_base=0.01
    ) as gws:
        await gws.login()
        stub.delay = 0.5
        with pytest.raises(GwsTransportError):
            await gws.get("/me/calls")
    assert len(stub.calls("GET", "/api/v2/me/calls")) == 2


async def test_unreachable_gws_is_a_transport_error_after_bounded_retries() -> None:
    port = free_port()
    started = time.monotonic()
    async with GwsRestClient(
        f"http://127.0.0.1:{port}", "agent0001", PASSWORD, get_retries=2, backoff_base=0.05, backoff_cap=0.1
    ) as gws:
        with pytest.raises(GwsTransportError) as caught:
            await gws.login()
    elapsed = time.monotonic() - started
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)
    assert 0.05 <= elapsed < 2.0


async def test_error_envelopes_from_the_seeds_map_to_their_classes(
    stub: StubGws, client: GwsRestClient
) -> None:
    await client.login()
    stub.reply("POST", "/api/v2/me/calls/c9", 400, {"statusCode": 2, "statusMessage": "Invalid call state"})
    with pytest.raises(GwsInvalidParameterError) as caught:
        await client.post("/me/calls/c9", {"operationName": "Retrieve"})
    assert (caught.value.status_code, caught.value.http_status) == (2, 400)
    stub.reply("POST", "/api/v2/me", 200, (ENVELOPES / "rest_me_Ready_failure_000.json").read_bytes())
    with pytest.raises(GwsReplyError) as failure:
        await client.post("/me", {"operationName": "Ready"})
    assert failure.value.message == "POST /me as agent0001: details"
    assert failure.value.status_code is None
    stub.reply("POST", "/api/v2/me/interactions/i1", 200, b"")
    assert await client.post("/me/interactions/i1", {"operationName": "Accept"}) == {}


async def test_csrf_off_means_no_token_and_posts_still_work(stub: StubGws, client: GwsRestClient) -> None:
    stub.csrf = False
    await client.login()
    assert client.csrf is None
    assert await client.post("/me", {"operationName": "Ready"}) == {"statusCode": 0}


async def test_clients_sharing_a_connector_keep_their_own_sessions(stub: StubGws) -> None:
    async with aiohttp.ClientSession() as shared:
        first = GwsRestClient(stub.base_url, "agent0001", PASSWORD, session=shared)
        second = GwsRestClient(stub.base_url, "agent0002", PASSWORD, session=shared)
        await first.login()
        await second.login()
        await first.post("/me", {"operationName": "Ready"})
        await second.post("/me", {"operationName": "NotReady"})
        await first.aclose()
        await second.aclose()
        assert not shared.closed
        assert not shared.connector.closed if shared.connector else False
    posts = stub.calls("POST", "/api/v2/me")
    owners = {stub.sessions[post.cookie][0]: post.body["operationName"] for post in posts if post.cookie}
    assert owners == {"agent0001": "Ready", "agent0002": "NotReady"}
    assert len(stub.sessions) == 2


async def test_end_of_session_forgets_cookie_and_token(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    client.forget_session()
    assert client.csrf is None and not client.logged_in
    assert "Cookie" not in client.cometd_headers()
    await client.post("/me", {"operationName": "Ready"})
    assert len(stub.sessions) == 2


async def test_no_secret_in_logs_or_exceptions(stub: StubGws, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with GwsRestClient(stub.base_url, "agent0001", PASSWORD, backoff_base=0.01, get_retries=1) as gws:
        await gws.login()
        assert gws.csrf is not None
        secrets_seen = [
            PASSWORD,
            gws.cometd_headers()["Authorization"].split()[1],
            gws.csrf[1],
            *stub.sessions,
        ]
        # GWS echoing a secret back in its message is scrubbed too.
        stub.reply("POST", "/api/v2/me", 400, {"statusCode": 1, "statusMessage": f"bad token {gws.csrf[1]}"})
        with pytest.raises(GwsMissingParameterError) as refused:
            await gws.post("/me", {"operationName": "Ready"})
        texts += [str(refused.value), repr(refused.value), refused.value.message]
        stub.restart()
        await gws.post("/me", {"operationName": "Ready"})
        texts.append(repr(gws))
    async with GwsRestClient(f"http://127.0.0.1:{free_port()}", "agent0001", PASSWORD, get_retries=0) as dead:
        with pytest.raises(GwsTransportError) as unreachable:
            await dead.get("/me")
        texts += [str(unreachable.value), repr(unreachable.value)]
    async with GwsRestClient(stub.base_url, "agent0001", "wrong-" + PASSWORD) as wrong:
        with pytest.raises(GwsNotAuthenticatedError) as denied:
            await wrong.login()
        texts.append(str(denied.value))
    records = [record.getMessage() + " " + str(record.__dict__) for record in caplog.records]
    assert any("gws login" in record for record in records)
    for text in texts + records:
        for secret in secrets_seen:
            assert secret not in text


async def test_post_whose_connection_dropped_after_sending_is_not_repeated(
    stub: StubGws, client: GwsRestClient
) -> None:
    await client.login()
    stub.drop = 1
    with pytest.raises(GwsTransportError):
        await client.post("/me/calls/c1", {"operationName": "Answer"})
    assert len(stub.calls("POST", "/api/v2/me/calls/c1")) == 1


async def test_get_whose_connection_dropped_is_retried(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    stub.drop = 1
    assert await client.get("/me/devices") == {"statusCode": 0}
    assert len(stub.calls("GET", "/api/v2/me/devices")) == 2


async def test_query_parameters_are_rendered_as_gws_expects(stub: StubGws, client: GwsRestClient) -> None:
    await client.get(
        "/users", params={"fields": "*", "enabled": True, "sortBy": ["lastName", "firstName"], "x": None}
    )
    (request,) = stub.calls("GET", "/api/v2/users")
    assert request.query == "fields=*&enabled=true&sortBy=lastName,firstName"


async def test_a_401_on_a_get_logs_in_again_once(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    stub.reply("GET", "/api/v2/me/calls", 401, {"statusCode": 20, "statusMessage": "User not authenticated"})
    assert await client.get("/me/calls") == {"statusCode": 0}
    assert [(r.method, r.path) for r in stub.received[1:]] == [
        ("GET", "/api/v2/me/calls"),
        ("GET", "/api/v2/me"),
        ("GET", "/api/v2/me/calls"),
    ]


async def test_status_code_20_in_a_200_reply_is_treated_as_an_expired_session(
    stub: StubGws, client: GwsRestClient
) -> None:
    await client.login()
    stub.reply("POST", "/api/v2/me", 200, {"statusCode": 20, "statusMessage": "User not authenticated"})
    assert await client.post("/me", {"operationName": "Ready"}) == {"statusCode": 0}
    assert len(stub.calls("POST", "/api/v2/me")) == 2


async def test_a_login_reply_without_token_turns_csrf_off(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    assert client.csrf is not None
    stub.csrf = False
    await client.login()
    assert client.csrf is None


async def test_put_and_delete_carry_csrf_and_json_bodies(stub: StubGws, client: GwsRestClient) -> None:
    await client.login()
    assert client.csrf is not None
    await client.put("/settings/dispositions", {"name": "Sale", "displayName": "Sale!"})
    await client.delete("/settings/dispositions", {"name": "Sale"})
    put, delete = (
        stub.calls("PUT", "/api/v2/settings/dispositions"),
        stub.calls("DELETE", "/api/v2/settings/dispositions"),
    )
    assert [r.body for r in put + delete] == [{"name": "Sale", "displayName": "Sale!"}, {"name": "Sale"}]
    assert {r.csrf for r in put + delete} == {client.csrf[1]}
