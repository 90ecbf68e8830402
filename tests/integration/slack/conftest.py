"""Slack connector fixtures: connectors against the mock Slack, sharing a private Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import orjson
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundSettings
from bridge.config.slack import SlackInboundSettings
from bridge.events import Event
from bridge.inbound.app import create_app
from bridge.inbound.server import ReceiverRunner
from bridge.inbound.slack import SLACK_KEY, SlackChatops
from connectors.slack import SlackConnector
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle
from tests.plugins.slack import BOT_TOKEN, MockSlack, block_action, event_callback, signed_headers

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "slack" / "events.json").read_text())
ENVIRON = {"SLACK_BOT_TOKEN": BOT_TOKEN, "WRONG_TOKEN": "xoxb-wrong"}
CHANNEL = "C0CONTACTS"
SlackFactory = Callable[..., SlackConnector]


def make_event(kind: str, *, event_id: str | None = None, call_id: str | None = None, **data: Any) -> Event:
    """A fixture event of ``kind`` with ``data`` overrides (a new id when ``event_id`` is given)."""
    document = json.loads(json.dumps(FIXTURES[kind]))
    document["data"].update(data)
    if call_id is not None:
        document["data"]["call_id"] = call_id
        document["subject"] = f"call/{call_id}"
    if event_id is not None:
        document["id"] = event_id
    return Event.model_validate(document)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def slack_factory(slack_api: MockSlack, redis: Redis) -> AsyncIterator[Callable[..., SlackConnector]]:
    """``slack_factory(**options)``: a bot-mode connector for ``CHANNEL`` (closed at the end)."""
    made: list[SlackConnector] = []

    def factory(name: str = "slack-cc", *, with_redis: bool = True, **options: Any) -> SlackConnector:
        options.setdefault("api_base_url", slack_api.base_url)
        if "webhook_url" not in options:
            options.setdefault("token", "env:SLACK_BOT_TOKEN")
            options.setdefault("channel", CHANNEL)
        options.setdefault("channel_interval", 0)
        config = DestinationConfig(name=name, kind="slack", timeout=5, options=options)
        connector = SlackConnector(config, redis=redis if with_redis else None, environ=ENVIRON)
        made.append(connector)
        return connector

    try:
        yield factory
    finally:
        for connector in made:
            await connector.aclose()


# -- chatops: a real receiver with [inbound.slack], in front of the simulator ----------------------

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USERS = {"U0AGENT1": "agent0001", "U0AGENT2": "agent0002", "U0GHOST": "nobody"}


@dataclass
class ChatopsHandle:
    """A receiver on loopback with the Slack routes; helpers send signed Slack requests."""

    url: str
    chatops: SlackChatops
    http: aiohttp.ClientSession
    slack: MockSlack

    def signed(self, body: bytes, *, at: float | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
        return signed_headers(body, secret, at=at)

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, **signing: Any
    ) -> tuple[int, Any, Any]:
        """``(status, parsed JSON or raw body, headers)`` of a signed POST (``headers`` added/overriding)."""
        sent = dict(self.signed(body, **signing), **(headers or {}))
        async with self.http.post(self.url + path, data=body, headers=sent) as response:
            raw = await response.read()
            parsed = orjson.loads(raw) if raw and "json" in response.content_type else raw
            return response.status, parsed, response.headers

    def slash_body(
        self, command: str, text: str, *, user: str = "U0AGENT1", trigger: str | None = None
    ) -> bytes:
        return urlencode(
            {
                "token": "unused-verification-token",
                "team_id": "T0TEAM",
                "channel_id": "C0CONTACTS",
                "user_id": user,
                "user_name": "someone",
                "command": command,
                "text": text,
                "response_url": self.slack.response_url(f"cmd-{uuid.uuid4().hex[:8]}"),
                "trigger_id": trigger or uuid.uuid4().hex,
            }
        ).encode()

    async def slash(self, command: str, text: str, **options: Any) -> tuple[int, Any, Any]:
        headers = options.pop("headers", None)
        return await self.post("/slack/commands", self.slash_body(command, text, **options), headers)

    def click_body(self, button: dict[str, Any], *, user: str = "U0AGENT1") -> bytes:
        response_url = self.slack.response_url(f"click-{uuid.uuid4().hex[:8]}")
        return block_action(button, user=user, response_url=response_url, channel=CHANNEL)

    async def click(self, button: dict[str, Any], **options: Any) -> tuple[int, Any, Any]:
        return await self.post("/slack/interactions", self.click_body(button, **options))

    async def choose(
        self, menu: dict[str, Any], option: dict[str, Any], *, user: str = "U0AGENT1"
    ) -> tuple[int, Any, Any]:
        """Pick ``option`` in a static select ``menu`` of the bridge's message (after its confirm)."""
        body = orjson.loads(
            dict(parse_qsl(self.click_body({"action_id": "", "value": ""}, user=user).decode()))["payload"]
        )
        body["actions"] = [
            {
                "action_id": menu["action_id"],
                "block_id": "b",
                "type": "static_select",
                "selected_option": option,
            }
        ]
        return await self.post(
            "/slack/interactions", urlencode({"payload": orjson.dumps(body).decode()}).encode()
        )

    @staticmethod
    def event_body(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """An Events API ``event_callback`` carrying ``event``, as Slack sends it."""
        return event_callback(event, event_id=event_id)

    async def event(
        self, body: bytes, headers: dict[str, str] | None = None, **signing: Any
    ) -> tuple[int, Any, Any]:
        """POST a signed Events API body to ``/slack/events``."""
        return await self.post(
            "/slack/events", body, dict({"Content-Type": "application/json"}, **(headers or {})), **signing
        )


@pytest.fixture
async def chatops(
    simulator: SimulatorHandle, redis_url: str, slack_api: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ChatopsHandle]:
    # The receiver reads the Slack destinations too: their channels' chat threads take replies.
    monkeypatch.setenv("GWSB_TEST_SLACK_TOKEN", BOT_TOKEN)
    destination = DestinationConfig(
        name="slack-cc",
        kind="slack",
        options={
            "token": "env:GWSB_TEST_SLACK_TOKEN",
            "channel": CHANNEL,
            "api_base_url": slack_api.base_url,
        },
    )
    settings = Settings(
        redis_url=redis_url,
        destinations=[destination],
        gws=GwsSettings(base_url=simulator.base_url, request_timeout=5.0),
        agents=[AgentConfig(username=name, password=simulator.password) for name in simulator.agents],
        inbound=InboundSettings(
            outcome_timeout=3.0,
            slack=SlackInboundSettings(
                signing_secret=SIGNING_SECRET,
                users=USERS,
                response_url_prefixes=[slack_api.url + "/response/"],
                outcome_wait=3.0,
            ),
        ),
    )
    app = create_app(settings)
    runner = ReceiverRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    try:
        yield ChatopsHandle(f"http://127.0.0.1:{port}", app[SLACK_KEY], http, slack_api)
    finally:
        await http.close()
        await runner.cleanup()
