"""GwsRestClient against the simulator: login, CSRF, re-login after /sim/restart, errors mapped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bridge.gws import operations as ops
from bridge.gws.errors import (
    GwsInvalidParameterError,
    GwsMissingParameterError,
    GwsNotAuthenticatedError,
    GwsNotFoundError,
    GwsReplyError,
    GwsServiceUnavailableError,
)
from bridge.gws.rest import GwsRestClient
from tests.plugins.simulator import SimulatorHandle

AGENT = "agent0001"


@pytest.fixture
async def client(simulator: SimulatorHandle) -> AsyncIterator[GwsRestClient]:
    gws = GwsRestClient(simulator.base_url, AGENT, simulator.password, timeout=5.0, backoff_base=0.01)
    try:
        yield gws
    finally:
        await gws.aclose()


async def test_login_returns_the_user_and_captures_session_and_csrf(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    user = await client.login()
    assert user["userName"] == AGENT
    assert client.logged_in
    assert client.csrf is not None and client.csrf[0] == "X-CSRF-TOKEN"
    headers = client.cometd_headers()
    assert headers["Cookie"].startswith("JSESSIONID=")
    assert headers["X-CSRF-TOKEN"] == client.csrf[1]
    assert headers["Authorization"].startswith("Basic ")
    assert (await simulator.status())["sessions"] == 1


async def test_posts_carry_the_csrf_token_and_reuse_the_session(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    await client.login()
    for _ in range(3):
        await ops.ready(client)
    entries = await simulator.log(agent=AGENT)
    assert [(e["method"], e["path"]) for e in entries] == [("GET", "/api/v2/me")] + [
        ("POST", "/api/v2/me/channels/voice")
    ] * 3
    assert (await simulator.status())["sessions"] == 1


async def test_after_restart_the_client_logs_in_again_and_the_operation_goes_through(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    await client.login()
    old_csrf = client.csrf
    await simulator.restart()
    await simulator.log(clear=True)
    assert await ops.not_ready(client) == {"statusCode": 0}
    assert client.csrf != old_csrf
    # the refused POST never reached an operation handler; the log shows login, then the POST once
    entries = await simulator.log(agent=AGENT)
    assert [(e["method"], e["path"]) for e in entries] == [
        ("GET", "/api/v2/me"),
        ("POST", "/api/v2/me/channels/voice"),
    ]
    (device,) = await ops.get_devices(client)
    assert device["userState"]["state"] == "NotReady"


async def test_an_idle_expired_session_is_replaced(
    simulator_factory: Callable[..., Awaitable[SimulatorHandle]],
) -> None:
    sim = await simulator_factory(session_idle_timeout=0.3)
    async with GwsRestClient(sim.base_url, AGENT, sim.password) as gws:
        await gws.login()
        await asyncio.sleep(0.5)
        assert await ops.ready(gws) == {"statusCode": 0}


async def test_end_contact_center_session_then_next_request_logs_in_again(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    await ops.start_contact_center_session(client, ["voice"])
    await ops.end_contact_center_session(client)
    assert not client.logged_in and client.csrf is None
    assert await ops.start_contact_center_session(client, ["voice"]) == {"statusCode": 0}
    assert client.logged_in


async def test_end_session_sent_through_request_also_drops_the_http_session(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    await client.post("/me", {"operationName": "StartContactCenterSession", "channels": ["voice"]})
    await client.request("POST", "/me", json={"operationName": "EndContactCenterSession"})
    assert not client.logged_in and client.csrf is None
    await simulator.log(clear=True)
    assert await ops.ready(client) == {"statusCode": 0}
    entries = await simulator.log(agent=AGENT)
    assert [(e["method"], e["path"]) for e in entries] == [
        ("GET", "/api/v2/me"),
        ("POST", "/api/v2/me/channels/voice"),
    ]


async def test_csrf_off_works_without_a_token(
    simulator_factory: Callable[..., Awaitable[SimulatorHandle]],
) -> None:
    sim = await simulator_factory(csrf=False)
    async with GwsRestClient(sim.base_url, AGENT, sim.password) as gws:
        await gws.login()
        assert gws.csrf is None
        assert await ops.ready(gws) == {"statusCode": 0}


async def test_wrong_password_maps_to_not_authenticated(simulator: SimulatorHandle) -> None:
    async with GwsRestClient(simulator.base_url, AGENT, "not-the-password") as gws:
        with pytest.raises(GwsNotAuthenticatedError) as caught:
            await gws.login()
    assert (caught.value.status_code, caught.value.http_status) == (20, 401)
    assert "User not authenticated" in caught.value.message
    assert "not-the-password" not in str(caught.value)


async def test_unknown_call_maps_to_not_found(client: GwsRestClient) -> None:
    with pytest.raises(GwsNotFoundError) as caught:
        await ops.answer(client, "no-such-call")
    assert (caught.value.status_code, caught.value.http_status) == (6, 404)
    assert caught.value.message.startswith("POST /me/calls/no-such-call as agent0001: ")


async def test_unknown_operation_maps_to_invalid_parameter(client: GwsRestClient) -> None:
    with pytest.raises(GwsInvalidParameterError) as caught:
        await ops.agent_state_operation(client, "NoSuchState")
    assert (caught.value.status_code, caught.value.http_status) == (2, 400)
    assert "NoSuchState" in caught.value.message


async def test_missing_parameter_maps_to_missing_parameter(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    call = await simulator.start_call(AGENT)
    with pytest.raises(GwsMissingParameterError) as caught:
        await ops.call_operation(client, call, "SendDtmf")
    assert caught.value.status_code == 1


async def test_voice_service_down_maps_to_service_unavailable_and_post_is_not_repeated(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    await client.login()
    await simulator.set_service("Voice", "Inactive")
    await simulator.log(clear=True)
    with pytest.raises(GwsServiceUnavailableError) as caught:
        await ops.ready(client)
    assert (caught.value.status_code, caught.value.http_status) == (4, 503)
    assert "Voice service is not available at this time" in caught.value.message
    assert len(await simulator.log(agent=AGENT)) == 1


async def test_status_error_envelope_of_interaction_ops_is_mapped(
    simulator: SimulatorHandle, client: GwsRestClient
) -> None:
    interaction = await simulator.send_interaction(AGENT, "email")
    with pytest.raises(GwsReplyError) as caught:
        await ops.place_in_queue(client, interaction, "EmailInQueue")  # not accepted yet
    assert caught.value.body.get("status") == "error"
    assert caught.value.body.get("errorDescription")
    assert caught.value.message.endswith(caught.value.body["errorDescription"])


async def test_many_clients_share_one_connector_with_separate_sessions(simulator: SimulatorHandle) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as shared:
        clients = [
            GwsRestClient(simulator.base_url, name, simulator.password, session=shared)
            for name in simulator.agents
        ]
        try:
            await asyncio.gather(*(ops.not_ready(c) for c in clients))
            devices = await asyncio.gather(*(ops.get_devices(c) for c in clients))
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
    assert [d[0]["userState"]["state"] for d in devices] == ["NotReady"] * len(simulator.agents)
    entries = await simulator.log()
    posts = {e["agent"] for e in entries if e["method"] == "POST"}
    assert posts == set(simulator.agents)
    assert (await simulator.status())["sessions"] == len(simulator.agents)
