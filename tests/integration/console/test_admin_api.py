"""The console's admin API on a real Redis: authentication, roles, CSRF, masking, the shared
dead-letter semantics, commands, audit, the live stream and the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.keys import Keys
from bridge.console.app import create_app
from bridge.console.openapi import openapi_document
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.items import AttemptRecord, Outcome, QueuedDelivery, Result
from bridge.delivery.recording import AttemptLog
from bridge.inbound.store import RedisCommandStore
from tests.integration.console.conftest import OPERATOR, VIEWER, Console
from tests.plugins.delivery import make_event
from tests.plugins.ports import free_port


async def _record(
    redis: Redis, settings: Settings, n: int, outcome: Outcome = Outcome.DELIVERED, **data: Any
) -> str:
    event = make_event(n, subject="call/c42", **data)
    delivery = QueuedDelivery.for_event(event, "crm")
    if outcome is not Outcome.DELIVERED:
        delivery = delivery.with_attempt(AttemptRecord(time.time(), "failed", "crm: HTTP 500"))
    log = AttemptLog(redis, Keys().console, settings.console)
    await log.add("crm", [Result(delivery, outcome, started=time.time(), latency=0.012, status=204)])
    return event.id


async def test_nothing_is_served_without_authentication(console: Console) -> None:
    async with console.session() as http:
        for path in ("/v1/admin/overview", "/v1/admin/events", "/v1/admin/openapi.json", "/v1/admin/stream"):
            async with http.get(path) as reply:
                assert reply.status == 401, path
                assert reply.content_type == "application/problem+json"
        async with http.get("/", allow_redirects=False) as reply:
            assert reply.status == 302 and reply.headers["Location"] == "/login"
        async with http.get("/static/app.js", allow_redirects=False) as reply:
            assert reply.status == 302
        async with http.get("/login") as reply:
            assert reply.status == 200 and "script-src 'self'" in reply.headers["Content-Security-Policy"]
        async with http.get("/v1/admin/overview", headers={"Authorization": "Bearer wrong"}) as reply:
            assert reply.status == 401


async def test_a_viewer_reads_but_is_refused_every_operator_action(console: Console) -> None:
    async with console.session(VIEWER) as http:
        async with http.get("/v1/admin/overview") as reply:
            assert reply.status == 200 and (await reply.json())["agents"]["configured"] == 1
        for path, body in (
            ("/v1/admin/dead-letters/replay", {"all": True}),
            ("/v1/admin/dead-letters/purge", {"all": True}),
            ("/v1/admin/destinations/crm/disable", {}),
            ("/v1/admin/destinations/crm/enable", {}),
            ("/v1/admin/destinations/crm/test", {}),
        ):
            async with http.post(path, json=body) as reply:
                assert reply.status == 403, path
                assert "operator" in (await reply.json())["detail"]


async def test_a_browser_session_is_httponly_samesite_strict_and_needs_the_csrf_token(
    console: Console,
) -> None:
    async with console.session() as http:
        async with http.post("/v1/admin/session", json={"key": "nope"}) as reply:
            assert reply.status == 401
        async with http.post("/v1/admin/session", json={"key": OPERATOR}) as reply:
            assert reply.status == 200
            session = await reply.json()
            cookie = reply.headers["Set-Cookie"]
        assert session["name"] == "otto" and session["role"] == "operator" and session["csrf"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert OPERATOR not in cookie
        async with http.get("/v1/admin/session") as reply:
            assert (await reply.json())["csrf"] == session["csrf"]
        async with http.post("/v1/admin/destinations/crm/disable", json={}) as reply:
            assert reply.status == 403 and (await reply.json())["type"].endswith("/csrf")
        headers = {"X-CSRF-Token": session["csrf"]}
        async with http.post(
            "/v1/admin/destinations/crm/disable", json={"reason": "maintenance"}, headers=headers
        ) as reply:
            assert reply.status == 200 and (await reply.json()) == {"disabled": True}
        async with http.get("/v1/admin/destinations") as reply:
            (row,) = (await reply.json())["destinations"]
            assert row["state"] == "disabled" and row["disabled_reason"] == "maintenance"
        async with http.delete("/v1/admin/session", headers=headers) as reply:
            assert reply.status == 204
        async with http.get("/v1/admin/session") as reply:
            assert reply.status == 401
    async with console.session(VIEWER) as http, http.get("/v1/admin/audit") as reply:
        actions = (await reply.json())["actions"]
    assert any(
        a["who"] == "otto" and a["action"] == "destination.disable" and a["target"] == "crm" for a in actions
    )


async def test_events_are_found_by_call_webhook_id_and_agent_with_masked_data(console: Console) -> None:
    first = await _record(console.redis, console.settings, 1, Outcome.RETRY, ssn="123-45-6789")
    await _record(console.redis, console.settings, 1, Outcome.DELIVERED, ssn="123-45-6789")
    await _record(console.redis, console.settings, 2)
    async with console.session(VIEWER) as http:
        async with http.get("/v1/admin/events", params={"call_id": "c42"}) as reply:
            events = (await reply.json())["events"]
        assert {e["event_id"] for e in events} == {first, make_event(2, subject="call/c42").id}
        one = next(e for e in events if e["event_id"] == first)
        assert [a["outcome"] for a in one["attempts"]] == ["retry", "delivered"]
        assert one["outcome"] == {"crm": "delivered"}
        assert one["event"]["data"]["ssn"] == "••••"
        async with http.get("/v1/admin/events", params={"webhook_id": first}) as reply:
            assert [e["event_id"] for e in (await reply.json())["events"]] == [first]
        async with http.get("/v1/admin/events", params={"agent": "nobody"}) as reply:
            assert (await reply.json())["events"] == []
        async with http.get("/v1/admin/timeline", params={"subject": "call/c42"}) as reply:
            timeline = (await reply.json())["events"]
        assert [e["sequence"] for e in timeline] == sorted(e["sequence"] for e in timeline)
        async with http.get("/v1/admin/events", params={"limit": "0"}) as reply:
            assert reply.status == 400 and (await reply.json())["field"] == "limit"


async def test_dead_letters_follow_the_dlq_semantics(console: Console) -> None:
    store = DeadLetterStore(console.redis, Keys())
    for n in (1, 2):
        await store.add(QueuedDelivery.for_event(make_event(n), "crm"), "attempts exhausted")
    async with console.session(OPERATOR) as http:
        async with http.get("/v1/admin/dead-letters") as reply:
            letters = (await reply.json())["dead_letters"]
        assert len(letters) == 2
        async with http.post("/v1/admin/dead-letters/replay", json={}) as reply:
            assert reply.status == 400 and (await reply.json())["field"] == "all"
        async with http.post(
            "/v1/admin/dead-letters/replay", json={"ids": [letters[0]["id"], "crm:missing"]}
        ) as reply:
            assert (await reply.json()) == {"count": 1, "missing": ["crm:missing"], "dry_run": False}
        async with http.post("/v1/admin/dead-letters/purge", json={"all": True, "dry_run": True}) as reply:
            assert (await reply.json()) == {"count": 1, "missing": [], "dry_run": True}
        assert await store.count() == 1  # the dry run changed nothing
        async with http.post("/v1/admin/dead-letters/purge", json={"all": True}) as reply:
            assert (await reply.json())["count"] == 1
    assert await store.count() == 0
    assert len(await console.redis.zrange(Keys().retry, 0, -1)) == 1  # the replayed one waits for a worker


async def test_recent_commands_come_from_the_receivers_index(console: Console, redis_url: str) -> None:
    store = RedisCommandStore(redis_url, index_size=3)
    for n in range(5):
        record = {
            "id": f"cmd{n}",
            "client": "crm",
            "agent": "agent1",
            "action": "agent.ready",
            "status": "succeeded",
        }
        await store.save_status(record, 60)
    await store.aclose()
    assert await console.redis.zcard(Keys().inbound.command_index) == 3
    async with console.session(VIEWER) as http, http.get("/v1/admin/commands") as reply:
        rows = (await reply.json())["commands"]
    assert [r["id"] for r in rows] == ["cmd4", "cmd3", "cmd2"]


async def test_the_live_stream_sends_new_attempts_as_server_sent_events(console: Console) -> None:
    async with console.session(VIEWER) as http, http.get("/v1/admin/stream") as reply:
        assert reply.headers["Content-Type"] == "text/event-stream"
        assert (await reply.content.readline()).startswith(b"event: hello")
        await reply.content.readline()
        await reply.content.readline()
        event_id = await _record(console.redis, console.settings, 7)
        frames: list[bytes] = []
        async with asyncio.timeout(8):
            while not any(b"event: attempt" in f for f in frames):
                frames.append(await reply.content.readline())
            data = await reply.content.readline()
        assert orjson.loads(data.removeprefix(b"data: "))["event_id"] == event_id


async def test_a_batch_of_attempts_reaches_the_live_stream_whole_and_in_order(console: Console) -> None:
    log = AttemptLog(console.redis, Keys().console, console.settings.console)
    deliveries = [QueuedDelivery.for_event(make_event(n, subject="call/c42"), "crm") for n in range(50)]
    async with console.session(VIEWER) as http, http.get("/v1/admin/stream") as reply:
        assert (await reply.content.readline()).startswith(b"event: hello")
        await reply.content.readline()
        await reply.content.readline()
        await log.add(
            "crm", [Result(d, Outcome.DELIVERED, started=time.time(), latency=0.01) for d in deliveries]
        )
        seen: list[str] = []
        async with asyncio.timeout(8):
            while len(seen) < len(deliveries):
                line = await reply.content.readline()
                if line.startswith(b"data: ") and b'"event_id"' in line:
                    seen.append(orjson.loads(line.removeprefix(b"data: "))["event_id"])
    assert seen == [d.event_id for d in deliveries]


def test_the_openapi_document_is_valid_and_names_every_route(redis_url: str) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = openapi_document()
    validator.validate(document)
    app = create_app(Settings(redis_url=redis_url))
    canonical = [r.resource.canonical for r in app.router.routes() if r.resource is not None]
    routes = {
        c.replace("{action:enable|disable|test}", "{action}") for c in canonical if c.startswith("/v1/")
    }
    documented = {p.rsplit("/", 1)[0] + "/{action}" if p.endswith(("/enable", "/disable", "/test")) else p
                  for p in document["paths"]}  # fmt: skip
    assert routes == documented


async def test_readyz_answers_without_a_key_and_fails_while_redis_does_not(console: Console) -> None:
    async with console.session() as http:
        async with http.get("/healthz") as reply:
            assert reply.status == 200
        async with http.get("/readyz") as reply:
            assert reply.status == 200 and await reply.text() == "ready"
    nowhere = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    runner = web.AppRunner(create_app(console.settings, redis=nowhere))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as reply:
            assert reply.status == 503 and reply.content_type == "application/problem+json"
    finally:
        await runner.cleanup()
        await nowhere.aclose()
