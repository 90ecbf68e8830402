"""The simulator's CometD server with the client the bridge uses: aiocometd-noloop, both transports.

The server runs on a small aiohttp app of its own here (Basic auth, password
``secret``), so the protocol is checked against the real client library
without the rest of the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiocometd_noloop
import aiohttp
import pytest
from aiocometd_noloop import ConnectionType
from yarl import URL

from simulator.bayeux import BayeuxServer
from tests.integration.simulator.raw_bayeux import RawBayeux
from tests.plugins.simulator import AgentClient, SimulatorHandle

# aiocometd-noloop's websocket transport passes a float `receive_timeout` to aiohttp's ws_connect,
# which aiohttp 3.14 deprecates; the library is pinned (ARCHITECTURE.md), so only that warning is
# ignored, only for the websocket tests.
WEBSOCKET_DEPRECATION = pytest.mark.filterwarnings(
    "ignore:float parameter 'receive_timeout' is deprecated:DeprecationWarning"
)
TRANSPORTS = [
    pytest.param(ConnectionType.LONG_POLLING, id="long-polling"),
    pytest.param(ConnectionType.WEBSOCKET, id="websocket", marks=WEBSOCKET_DEPRECATION),
]


class HeaderExtension(aiocometd_noloop.Extension):
    """Puts fixed HTTP headers (Authorization, Cookie, CSRF) on every CometD request."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers.update(self._headers)

    async def incoming(self, payload: list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        return None


@pytest.fixture
async def cometd_server(bayeux_factory: Callable[..., Any]) -> tuple[BayeuxServer, str]:
    raw: RawBayeux = await bayeux_factory(long_poll_timeout=2.0)
    return raw.server, raw.url


@asynccontextmanager
async def cometd_client(
    url: str, transport: ConnectionType, user: str, *subscriptions: str
) -> AsyncIterator[aiocometd_noloop.Client]:
    """An open aiocometd-noloop client (built inside the running loop), subscribed, closed afterwards."""
    headers = {"Authorization": aiohttp.encode_basic_auth(user, "secret")}
    # ssl=True (aiohttp's own default): the library's default None is deprecated by aiohttp for ws_connect.
    client = aiocometd_noloop.Client(url, transport, ssl=True, extensions=[HeaderExtension(headers)])
    await asyncio.wait_for(client.open(), 5)
    try:
        for subscription in subscriptions:
            await asyncio.wait_for(client.subscribe(subscription), 5)
        yield client
    finally:
        await asyncio.wait_for(client.close(), 5)


async def receive(client: aiocometd_noloop.Client, seconds: float = 5.0) -> dict[str, Any]:
    return dict(await asyncio.wait_for(client.receive(), seconds))


async def publish_when_subscribed(publish: Callable[[], int], *, seconds: float = 5.0) -> None:
    """Publish until a subscriber takes it (the client resubscribes on its own after a re-handshake)."""
    for _ in range(int(seconds / 0.05)):
        if publish() > 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no subscriber came back")


async def nothing_arrives(client: aiocometd_noloop.Client, seconds: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(client.receive(), seconds)
    except TimeoutError:
        return True
    return False


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_client_receives_its_messages_on_wildcard_and_service_topics(
    cometd_server: tuple[BayeuxServer, str], transport: ConnectionType
) -> None:
    server, url = cometd_server
    async with cometd_client(url, transport, "agent0001", "/v2/me/*", "/notifications/services") as client:
        assert client.connection_type is transport
        call = {"messageType": "CallStateChangeMessage", "notificationType": "StatusChange"}
        assert server.publish("/v2/me/calls", call, user="agent0001") == 1
        assert await receive(client) == {"channel": "/v2/me/calls", "data": call}
        service = {"messageType": "ServiceStateChangeMessage", "service": {"type": "voice"}}
        assert server.publish("/notifications/services", service, user=None) == 1
        assert await receive(client) == {"channel": "/notifications/services", "data": service}
        for n in range(50):
            server.publish("/v2/me/devices", {"n": n}, user="agent0001")
        assert [(await receive(client))["data"]["n"] for _ in range(50)] == list(range(50))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_each_agent_sees_only_its_own_messages(
    cometd_server: tuple[BayeuxServer, str], transport: ConnectionType
) -> None:
    server, url = cometd_server
    async with (
        cometd_client(url, transport, "agent0001", "/v2/me/*") as first,
        cometd_client(url, transport, "agent0002", "/v2/me/*") as second,
    ):
        server.publish("/v2/me/calls", {"to": "agent0001"}, user="agent0001")
        server.publish("/v2/me/calls", {"to": "agent0002"}, user="agent0002")
        assert (await receive(first))["data"] == {"to": "agent0001"}
        assert (await receive(second))["data"] == {"to": "agent0002"}
        assert await nothing_arrives(first)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_client_rehandshakes_and_resubscribes_after_disconnect_all(
    cometd_server: tuple[BayeuxServer, str], transport: ConnectionType
) -> None:
    server, url = cometd_server
    async with cometd_client(url, transport, "agent0001", "/v2/me/*", "/notifications/services") as client:
        server.publish("/v2/me/calls", {"n": 1}, user="agent0001")
        assert (await receive(client))["data"] == {"n": 1}
        assert await server.disconnect_all() == 1

        await publish_when_subscribed(lambda: server.publish("/v2/me/calls", {"n": 2}, user="agent0001"))
        assert (await receive(client))["data"] == {"n": 2}
        # Both subscriptions came back, and the client keeps receiving after the re-handshake.
        await publish_when_subscribed(lambda: server.publish("/notifications/services", {"n": 3}, user=None))
        assert (await receive(client))["data"] == {"n": 3}
        server.publish("/v2/me/devices", {"n": 4}, user="agent0001")
        assert (await receive(client))["data"] == {"n": 4}
        assert server.client_count == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_unsubscribe_and_close_end_delivery(
    cometd_server: tuple[BayeuxServer, str], transport: ConnectionType
) -> None:
    server, url = cometd_server
    async with cometd_client(url, transport, "agent0001", "/v2/me/calls", "/v2/me/devices") as client:
        await asyncio.wait_for(client.unsubscribe("/v2/me/calls"), 5)
        assert server.publish("/v2/me/calls", {}, user="agent0001") == 0
        assert server.publish("/v2/me/devices", {}, user="agent0001") == 1
        assert (await receive(client))["channel"] == "/v2/me/devices"
    assert server.client_count == 0


# -- against the real simulator (REST login, cookie + CSRF, control API) --------------------------


async def _session_headers(client: AgentClient) -> dict[str, str]:
    """What a GWS client sends after logging in: the JSESSIONID cookie and the CSRF token."""
    await client.login()
    assert client.session is not None and client.csrf_token is not None
    cookies = client.session.cookie_jar.filter_cookies(URL(client.base_url))
    return {"Cookie": f"JSESSIONID={cookies['JSESSIONID'].value}", "X-CSRF-TOKEN": client.csrf_token}


@asynccontextmanager
async def logged_in_cometd(
    handle: SimulatorHandle, user: str, transport: ConnectionType = ConnectionType.LONG_POLLING
) -> AsyncIterator[aiocometd_noloop.Client]:
    """Log ``user`` in over REST, then open a CometD client with its cookie and CSRF token."""
    async with handle.agent_client(user) as rest:
        headers = await _session_headers(rest)
        client = aiocometd_noloop.Client(
            handle.notifications_url, transport, ssl=True, extensions=[HeaderExtension(headers)]
        )
        await asyncio.wait_for(client.open(), 5)
        try:
            for channel in ("/v2/me/*", "/notifications/services"):
                await asyncio.wait_for(client.subscribe(channel), 5)
            yield client
        finally:
            await asyncio.wait_for(client.close(), 5)


async def receive_call(client: aiocometd_noloop.Client, call_id: str, state: str) -> dict[str, Any]:
    """The next /v2/me/calls notification for ``call_id`` in ``state`` (others are skipped)."""
    for _ in range(20):
        message = await receive(client)
        call = message["data"].get("call") or {}
        if message["channel"] == "/v2/me/calls" and call.get("id") == call_id and call.get("state") == state:
            return message
    raise AssertionError(f"no {state} notification for call {call_id}")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_real_simulator_ringing_call_reaches_the_agents_cometd_client(
    simulator: SimulatorHandle, transport: ConnectionType
) -> None:
    async with logged_in_cometd(simulator, "agent0001", transport) as client:
        call_id = await simulator.start_call("agent0001", user_data={"CustomerName": "Ada"})
        ringing = await receive_call(client, call_id, "Ringing")
        assert ringing["data"]["messageType"] == "CallStateChangeMessage"
        assert ringing["data"]["notificationType"] == "StatusChange"
        assert ringing["data"]["call"]["userData"]["CustomerName"] == "Ada"
        await simulator.set_service("voice", "Inactive")
        for _ in range(10):
            message = await receive(client)
            if message["channel"] == "/notifications/services":
                break
        assert message["data"]["messageType"] == "ServiceStateChangeMessage"
        assert message["data"]["service"]["state"] == "Inactive"


async def test_real_simulator_agent_gets_no_other_agents_calls(simulator: SimulatorHandle) -> None:
    async with (
        logged_in_cometd(simulator, "agent0001") as first,
        logged_in_cometd(simulator, "agent0002") as second,
    ):
        theirs = await simulator.start_call("agent0002")
        mine = await simulator.start_call("agent0001")
        assert (await receive_call(first, mine, "Ringing"))["data"]["call"]["id"] == mine
        await receive_call(second, theirs, "Ringing")
        assert await nothing_arrives(first)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_real_simulator_client_rehandshakes_after_sim_disconnect(
    simulator: SimulatorHandle, transport: ConnectionType
) -> None:
    async with logged_in_cometd(simulator, "agent0001", transport) as client:
        first = await simulator.start_call("agent0001")
        await receive_call(client, first, "Ringing")
        assert await simulator.disconnect_cometd() == 1
        assert simulator.sim is not None
        bayeux = simulator.sim.bayeux
        for _ in range(100):  # the client re-handshakes and resubscribes on its own
            if bayeux.publish("/v2/me/probe", {"probe": True}, user="agent0001"):
                break
            await asyncio.sleep(0.05)
        assert (await receive(client))["data"] == {"probe": True}
        second = await simulator.start_call("agent0001")
        await receive_call(client, second, "Ringing")


async def test_real_simulator_refuses_cometd_without_a_session(simulator: SimulatorHandle) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            simulator.notifications_url, json=[{"channel": "/meta/handshake", "version": "1.0"}]
        ) as reply,
    ):
        assert reply.status == 401


async def test_simulate_subprocess_delivers_ringing_over_cometd(simulator_process: SimulatorHandle) -> None:
    async with logged_in_cometd(simulator_process, "agent0001") as client:
        call_id = await simulator_process.start_call("agent0001")
        await receive_call(client, call_id, "Ringing")
        await simulator_process.release_call(call_id)
        await receive_call(client, call_id, "Released")
