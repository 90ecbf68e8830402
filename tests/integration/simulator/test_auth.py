"""Authentication, JSESSIONID sessions, idle expiry and CSRF, over real HTTP."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.integration.simulator.shapes import sample


async def test_version_needs_no_auth(simulator):
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{simulator.base_url}/api/v2/diagnostics/version") as r,
    ):
        assert r.status == 200
        assert await r.json() == sample("rest_get_diagnostics_version_response")


async def test_requests_without_credentials_get_401(simulator):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{simulator.base_url}/api/v2/me") as response:
            assert response.status == 401
            assert (await response.json())["statusCode"] == 20
            assert response.headers["WWW-Authenticate"].startswith("Basic")
        headers = {"Authorization": aiohttp.encode_basic_auth("agent0001", "wrong")}
        async with session.get(f"{simulator.base_url}/api/v2/me", headers=headers) as response:
            assert response.status == 401


async def test_get_me_matches_the_sample_and_sets_session_cookie_and_csrf_headers(simulator):
    async with simulator.agent_client("agent0001") as client:
        assert client.session is not None
        async with client.session.get(
            f"{simulator.base_url}/api/v2/me", headers={"Authorization": client.basic_header()}
        ) as response:
            assert response.status == 200
            assert response.headers["X-CSRF-HEADER"] == "X-CSRF-TOKEN"
            assert response.headers["X-CSRF-TOKEN"]
            assert "JSESSIONID" in response.cookies
            body = await response.json()
        expected = sample("rest_get_me_response")
        assert set(body) == set(expected) and set(body["user"]) == set(expected["user"])
        assert body["user"]["userName"] == "agent0001"


async def test_csrf_token_required_on_post_when_on(simulator):
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        status, body = await client.request("POST", "/me", {"operationName": "Ready"}, csrf=False)
        assert status == 403 and body["statusCode"] == 3 and "CSRF" in body["statusMessage"]
        client.csrf_token = "forged"
        status, _ = await client.post("/me", {"operationName": "Ready"})
        assert status == 403
        await client.login()  # a GET brings the real token back
        status, body = await client.post("/me", {"operationName": "Ready"})
        assert (status, body) == (200, {"status": "ok"})
    assert simulator.sim is not None
    assert simulator.sim.state.users["agent0001"].device.user_state.state == "Ready"


async def test_csrf_off_sends_no_token_and_checks_none(simulator_factory):
    handle = await simulator_factory(csrf=False)
    async with handle.agent_client("agent0001") as client:
        async with client.session.get(  # type: ignore[union-attr]
            f"{handle.base_url}/api/v2/me", headers={"Authorization": client.basic_header()}
        ) as response:
            assert "X-CSRF-TOKEN" not in response.headers
        status, body = await client.request("POST", "/me", {"operationName": "Ready"}, basic=True, csrf=False)
        assert (status, body) == (200, {"status": "ok"})


async def test_session_expires_after_idle_timeout(simulator_factory):
    handle = await simulator_factory(session_idle_timeout=0.3)
    async with handle.agent_client("agent0001") as client:
        await client.login()
        for _ in range(3):  # activity keeps it alive
            await asyncio.sleep(0.15)
            status, _ = await client.get("/me")
            assert status == 200
        await asyncio.sleep(0.45)
        status, _ = await client.get("/me")
        assert status == 401
        await client.login()  # Basic credentials open a new session
        status, _ = await client.get("/me/devices")
        assert status == 200


async def test_restart_forgets_every_session(simulator):
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        assert (await simulator.status())["sessions"] == 1
        await simulator.restart()
        status, _ = await client.get("/me")
        assert status == 401
        assert (await simulator.status())["sessions"] == 0


async def test_agents_only_see_their_own_resources(simulator):
    call_id = await simulator.start_call("agent0002")
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        status, body = await client.get("/me/calls")
        assert body["uris"] == []
        status, _ = await client.post(f"/me/calls/{call_id}", {"operationName": "Answer"})
        assert status == 404


async def test_expired_sessions_are_swept_when_the_table_grows(simulator_factory):
    handle = await simulator_factory(session_idle_timeout=0.05)
    store = handle.sim.sessions
    user = handle.sim.state.users["agent0001"]
    for _ in range(1000):
        store.open(user)
    await asyncio.sleep(0.1)
    for _ in range(30):
        store.open(user)
    assert len(store.sessions) < 100
