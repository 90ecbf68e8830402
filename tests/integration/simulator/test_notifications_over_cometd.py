"""What agents receive over CometD (raw Bayeux long-polling, as any client would speak it):
the published payloads, per-user delivery, broadcast service messages, and the control API's
disconnect/restart effects."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.integration.simulator.shapes import assert_same_shape
from tests.plugins.simulator import AgentClient, SimulatorHandle


class RawBayeux:
    """A minimal long-polling Bayeux client riding on an AgentClient's session (cookie, Basic) and
    sending its CSRF token, as GWS's client sample configures CometD's ``requestHeaders``."""

    def __init__(self, handle: SimulatorHandle, client: AgentClient) -> None:
        self.url = handle.notifications_url
        self.client = client
        self.client_id: str | None = None

    async def send(self, *messages: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        assert self.client.session is not None
        headers = {"Authorization": self.client.basic_header()} if self.client.send_basic else {}
        if self.client.csrf_token is not None:
            headers["X-CSRF-TOKEN"] = self.client.csrf_token
        async with self.client.session.post(self.url, json=list(messages), headers=headers) as response:
            body = await response.json(content_type=None) if response.status == 200 else []
            return response.status, body

    async def handshake(self, *subscriptions: str) -> None:
        status, replies = await self.send(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        )
        assert status == 200 and replies[0]["successful"], replies
        self.client_id = replies[0]["clientId"]
        for subscription in subscriptions:
            _, replies = await self.send(
                {"channel": "/meta/subscribe", "clientId": self.client_id, "subscription": subscription}
            )
            assert replies[0]["successful"], replies

    async def connect(self) -> tuple[int, list[dict[str, Any]]]:
        status, replies = await self.send(
            {"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling"}
        )
        return status, replies

    async def receive(self, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """At least ``count`` data messages (non-meta), polling until ``within`` seconds pass."""
        got: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + within
        while len(got) < count and asyncio.get_running_loop().time() < deadline:
            _, replies = await self.connect()
            got += [m for m in replies if not m["channel"].startswith("/meta/")]
        return got


async def test_agent_receives_its_call_notifications_exactly_as_published(simulator_factory):
    handle = await simulator_factory(long_poll_timeout=0.3)
    async with handle.agent_client("agent0001") as one, handle.agent_client("agent0002") as two:
        await one.login()
        await two.login()
        first, second = RawBayeux(handle, one), RawBayeux(handle, two)
        await first.handshake("/v2/me/*")
        await second.handshake("/v2/me/calls", "/notifications/services")
        await first.connect()  # first connect returns at once in Bayeux
        await second.connect()
        call_id = await handle.start_call("agent0001", user_data={"CustomerName": "Chris"})
        received = await first.receive(1)
        assert received[0]["channel"] == "/v2/me/calls"
        assert received[0]["data"] == handle.notifications("agent0001", "/v2/me/calls")[-1]["data"]
        assert_same_shape(received[0], "cometd_call_StatusChange_Ringing_toast")
        assert received[0]["data"]["call"]["id"] == call_id
        await handle.set_service("Voice", "Inactive")
        services = await second.receive(1)
        assert [m["channel"] for m in services] == ["/notifications/services"]  # nothing of agent0001's call
        assert_same_shape(services[0], "cometd_service_inactive")
        assert (await handle.status())["cometdClients"] == 2


async def test_disconnect_drops_clients_which_must_handshake_again(simulator_factory):
    handle = await simulator_factory(long_poll_timeout=0.3)
    async with handle.agent_client("agent0001") as client:
        await client.login()
        bayeux = RawBayeux(handle, client)
        await bayeux.handshake("/v2/me/*")
        await bayeux.connect()
        assert await handle.disconnect_cometd() == 1
        _, replies = await bayeux.connect()
        assert replies[0]["successful"] is False and replies[0]["error"].startswith("402")
        assert replies[0]["advice"]["reconnect"] == "handshake"
        await bayeux.handshake("/v2/me/*")
        await bayeux.connect()
        await handle.start_call("agent0001")
        assert len(await bayeux.receive(1)) == 1


async def test_restart_requires_a_new_login_for_cometd_too(simulator_factory):
    handle = await simulator_factory(long_poll_timeout=0.3)
    async with handle.agent_client("agent0001") as client:
        await client.login()
        bayeux = RawBayeux(handle, client)
        await bayeux.handshake("/v2/me/*")
        await handle.restart()
        status, _ = await bayeux.connect()
        assert status == 401  # the cookie's session is gone
        await client.login()
        await bayeux.handshake("/v2/me/*")
        await bayeux.connect()
        await handle.start_call("agent0001")
        assert len(await bayeux.receive(1)) == 1


HANDSHAKE = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}


async def test_cometd_without_credentials_gets_the_rest_401(simulator):
    """One security filter for REST and CometD, as in GWS: same status, JSON body and realm."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{simulator.base_url}/api/v2/me") as rest:
            rest_body, rest_challenge = await rest.json(), rest.headers["WWW-Authenticate"]
        for path in ("", "/handshake"):
            async with session.post(simulator.notifications_url + path, json=[HANDSHAKE]) as reply:
                assert reply.status == 401
                assert reply.content_type == "application/json"
                assert (
                    await reply.json()
                    == rest_body
                    == {"statusCode": 20, "statusMessage": "User not authenticated"}
                )
                assert reply.headers["WWW-Authenticate"] == rest_challenge == 'Basic realm="GWS"'
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(simulator.notifications_url)
        assert refused.value.status == 401
        assert refused.value.headers is not None
        assert refused.value.headers["WWW-Authenticate"] == 'Basic realm="GWS"'
    assert (await simulator.status())["cometdClients"] == 0


async def test_cometd_long_polling_needs_the_csrf_token_as_rest_does(simulator):
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        assert client.session is not None
        async with client.session.post(simulator.notifications_url, json=[HANDSHAKE]) as refused:
            assert refused.status == 403
            assert (await refused.json())["statusCode"] == 3
        headers = {"X-CSRF-TOKEN": "forged"}
        async with client.session.post(
            simulator.notifications_url, json=[HANDSHAKE], headers=headers
        ) as forged:
            assert forged.status == 403
        assert (await simulator.status())["cometdClients"] == 0
        bayeux = RawBayeux(simulator, client)  # sends the token
        await bayeux.handshake("/v2/me/*")
        assert (await simulator.status())["cometdClients"] == 1


async def test_cometd_websocket_upgrade_needs_only_the_session_cookie(simulator):
    # A browser cannot put headers on a websocket upgrade; the cookie it sends is enough.
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        assert client.session is not None
        async with client.session.ws_connect(simulator.notifications_url) as ws:
            await ws.send_json([{**HANDSHAKE, "supportedConnectionTypes": ["websocket"]}])
            [handshake] = await ws.receive_json(timeout=2)
            assert handshake["successful"] is True
            client_id = handshake["clientId"]
            subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": "/v2/me/*"}
            await ws.send_json([subscribe])
            assert (await ws.receive_json(timeout=2))[0]["successful"] is True
            call_id = await simulator.start_call("agent0001")
            [pushed] = await ws.receive_json(timeout=2)  # pushed at once: no connect outstanding
        assert (pushed["channel"], pushed["data"]["call"]["id"]) == ("/v2/me/calls", call_id)


async def test_only_the_notifications_subtree_is_cometd(simulator):
    """``/api/v2/notificationsX`` is an ordinary (unknown) REST path: guarded, logged, 404."""
    sibling = simulator.notifications_url + "X"
    async with aiohttp.ClientSession() as session, session.post(sibling, json=[HANDSHAKE]) as reply:
        assert reply.status == 401
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        bayeux = RawBayeux(simulator, client)
        bayeux.url = simulator.notifications_url + "/handshake"
        await bayeux.handshake()
        assert client.session is not None
        async with client.session.get(sibling) as unknown:
            assert unknown.status == 404
    paths = [entry["path"] for entry in await simulator.log()]
    assert "/api/v2/notificationsX" in paths
    assert not any(
        path.startswith("/api/v2/notifications/") or path == "/api/v2/notifications" for path in paths
    )
