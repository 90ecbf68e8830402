"""A raw client that speaks Bayeux by hand to the simulator's CometD server, and the trivial
Basic-auth authenticator (any user, password ``secret``) the server runs with in these tests."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from simulator.bayeux import BayeuxServer

PATH = "/api/v2/notifications"

HANDSHAKE = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}


async def basic_auth(request: web.Request) -> str:
    """The test authenticator: any user with password ``secret``; anything else gets HTTP 401."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            login, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            login, password = "", ""
        if password == "secret":
            return login
    raise web.HTTPUnauthorized(text="401: authentication required")


def auth(user: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, "secret")}


@dataclass
class RawBayeux:
    """A running server plus a raw HTTP client that speaks Bayeux by hand."""

    server: BayeuxServer
    url: str
    http: aiohttp.ClientSession

    async def send(
        self, messages: list[dict[str, Any]] | dict[str, Any], user: str = "agent1", path: str = ""
    ) -> Any:
        async with self.http.post(self.url + path, json=messages, headers=auth(user)) as reply:
            assert reply.status == 200, await reply.text()
            return await reply.json()

    async def handshake(self, user: str = "agent1") -> str:
        [reply] = await self.send([HANDSHAKE], user)
        assert reply["successful"] is True
        return str(reply["clientId"])

    async def connect(self, client_id: str, user: str = "agent1", **fields: Any) -> list[dict[str, Any]]:
        message = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
            **fields,
        }
        return list(await self.send([message], user))

    async def subscribe(self, client_id: str, subscription: str | list[str], user: str = "agent1") -> Any:
        message = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": subscription}
        [reply] = await self.send([message], user)
        return reply

    async def ready_client(self, *subscriptions: str, user: str = "agent1") -> str:
        """Handshake, first connect (answered at once) and subscribe."""
        client_id = await self.handshake(user)
        await self.connect(client_id, user)
        for subscription in subscriptions:
            assert (await self.subscribe(client_id, subscription, user))["successful"] is True
        return client_id


async def eventually(condition: Callable[[], bool], *, seconds: float) -> None:
    """Wait until ``condition()`` holds; fail after ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition()


def events(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [reply for reply in replies if not reply["channel"].startswith("/meta/")]


def connect_reply(replies: list[dict[str, Any]]) -> dict[str, Any]:
    [reply] = [reply for reply in replies if reply["channel"] == "/meta/connect"]
    return reply
