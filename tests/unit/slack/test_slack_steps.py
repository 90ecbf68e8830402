"""The Slack routes' steps on the receiver's pipeline: a pure parse, and what each step answers
without reaching GWS (the receiver's memory store, no Redis, no network)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import orjson
import pytest

from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundSettings
from bridge.config.slack import SlackInboundSettings
from bridge.inbound.http import InboundRequest, PipelineRoute, PlatformRoute, serve_platform_route
from bridge.inbound.problems import Problem
from bridge.inbound.receiver import Receiver
from bridge.inbound.slack import SlackChatops
from bridge.inbound.slack_dialect import Retried, SlackAnswer, SlackAsk, SlackDialect
from bridge.inbound.slack_events import ThreadReply

SECRET = "unit-slack-signing-secret"
SETTINGS = SlackInboundSettings(
    signing_secret=SECRET, users={"U0AGENT1": "agent0001"}, response_url_prefixes=["https://hooks.slack.com/"]
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def slash(command: str, text: str, *, user: str = "U0AGENT1", trigger: str = "t-1") -> bytes:
    return urlencode(
        {"command": command, "text": text, "user_id": user, "trigger_id": trigger,
         "response_url": "https://hooks.slack.com/commands/T0/1/x"}
    ).encode()  # fmt: skip


def signed(
    path: str, body: bytes, headers: dict[str, str] | None = None, *, method: str = "POST"
) -> InboundRequest:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    sent = dict(FORM, **{"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest})
    return InboundRequest(method, path, dict(sent, **(headers or {})), body)


def test_parse_is_the_dialect_alone_and_a_retry_is_parsed_like_its_first_try() -> None:
    dialect = SlackDialect(SETTINGS)
    asked = dialect.parse("commands", FORM, slash("/agent", "ready"))
    assert isinstance(asked, SlackAsk) and asked.intent.action is not None and asked.user_id == "U0AGENT1"
    assert isinstance(dialect.parse("commands", dict(FORM, **RETRY), slash("/agent", "ready")), Retried)
    with pytest.raises(Problem) as refused:  # a malformed retry is refused as its first try would be
        dialect.parse("commands", dict(FORM, **RETRY), b"a=1&&b=2")
    assert refused.value.status == 400
    unknown = dialect.parse("commands", FORM, slash("/nope", ""))
    assert (
        isinstance(unknown, SlackAnswer) and unknown.message and "Unknown command" in unknown.message["text"]
    )
    event = {
        "type": "message",
        "user": "U0AGENT1",
        "text": "hi",
        "ts": "2.1",
        "thread_ts": "1.1",
        "channel": "C0",
    }
    body = orjson.dumps({"type": "event_callback", "event_id": "Ev1", "event": event})
    # an event's retry is told apart by its event_id, later: parsed as the reply it is
    assert isinstance(
        dialect.parse("events", {"Content-Type": "application/json", **RETRY}, body), ThreadReply
    )


@pytest.fixture
async def chatops() -> AsyncIterator[SlackChatops]:
    receiver = Receiver(
        InboundSettings(),
        GwsSettings(base_url="http://127.0.0.1:9"),
        [AgentConfig(username="agent0001", password="p")],
    )
    try:
        yield SlackChatops(SETTINGS, receiver.executor, receiver.store)
    finally:
        await receiver.aclose()


async def test_the_slack_routes_are_a_platform_route_with_their_own_verify_and_authorize(
    chatops: SlackChatops,
) -> None:
    assert isinstance(chatops, PlatformRoute) and not isinstance(chatops, PipelineRoute)


async def test_refusals_at_verify_and_parse_are_problem_json_with_one_warning(
    chatops: SlackChatops, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bridge.inbound.slack")
    body = slash("/agent", "ready")
    cases = [
        (signed("/slack/commands", body, method="GET"), 405),
        (InboundRequest("POST", "/slack/commands", FORM, body), 401),
        (signed("/slack/commands", b"\xff"), 400),
        (signed("/slack/commands", body, {"Content-Type": "application/json"}), 415),
    ]
    for request, status in cases:
        response = await serve_platform_route(chatops, request)
        assert response.status == status and response.content_type == "application/problem+json"
        assert orjson.loads(response.body)["instance"] == "/slack/commands"
    assert [r.getMessage() for r in caplog.records] == ["slack request refused"] * len(cases)


async def test_answers_at_once_retries_replays_and_refusals_run_nothing(chatops: SlackChatops) -> None:
    challenge = orjson.dumps({"type": "url_verification", "challenge": "c-1"})
    response = await serve_platform_route(
        chatops, signed("/slack/events", challenge, {"Content-Type": "application/json"})
    )
    assert (response.status, orjson.loads(response.body)) == (200, {"challenge": "c-1"})
    unknown = signed("/slack/commands", slash("/nope", "", trigger="t-unknown"))
    assert "Unknown command" in orjson.loads((await serve_platform_route(chatops, unknown)).body)["text"]
    replayed = await serve_platform_route(chatops, unknown)  # the same trigger again: acknowledged only
    assert (replayed.status, replayed.body) == (200, b"")
    retried = await serve_platform_route(chatops, signed("/slack/commands", slash("/agent", "ready"), RETRY))
    assert (retried.status, retried.body, retried.headers) == (200, b"", {"X-Slack-No-Retry": "1"})
    stranger = signed("/slack/commands", slash("/agent", "ready", user="U0STRANGER", trigger="t-stranger"))
    refusal = orjson.loads((await serve_platform_route(chatops, stranger)).body)
    assert refusal["response_type"] == "ephemeral" and "not linked" in refusal["text"]
    await chatops.wait_idle(1.0)
