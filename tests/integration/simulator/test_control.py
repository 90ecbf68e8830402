"""The /sim control API, settings reads, the request log and /sim/load."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.integration.simulator.shapes import assert_same_shape, sample


async def raw(simulator, method: str, path: str, body: object = None) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, simulator.base_url + path, json=body) as r,
    ):
        return r.status, await r.json()


async def test_start_and_release_call(simulator):
    status, reply = await raw(
        simulator, "POST", "/sim/calls", {"to": "5002", "from": "5550100", "userData": {"A": "1"}}
    )
    assert status == 200 and reply["agent"] == "agent0002" and reply["uri"].endswith(reply["id"])
    status, released = await raw(simulator, "POST", f"/sim/calls/{reply['id']}/release")
    assert (status, released) == (200, {"id": reply["id"], "state": "Released"})
    states = [n["data"]["call"]["state"] for n in simulator.notifications("agent0002", "/v2/me/calls")]
    assert states == ["Ringing", "Released"]


async def test_control_errors(simulator):
    assert (await raw(simulator, "POST", "/sim/calls", {"to": "nobody"}))[0] == 404
    assert (await raw(simulator, "POST", "/sim/calls", {}))[0] == 400
    assert (await raw(simulator, "POST", "/sim/calls/nope/release"))[0] == 404
    assert (await raw(simulator, "POST", "/sim/interactions", {"to": "agent0001", "channel": "fax"}))[
        0
    ] == 400
    assert (await raw(simulator, "POST", "/sim/chat/nope/messages", {"text": "hi"}))[0] == 404
    assert (await raw(simulator, "POST", "/sim/services/Voice", {"state": "Sleepy"}))[0] == 400
    assert (await raw(simulator, "POST", "/sim/services/Fax", {"state": "Active"}))[0] == 404
    assert (await raw(simulator, "POST", "/sim/load", {"calls_per_second": 1}))[0] == 400
    assert (await raw(simulator, "GET", "/sim/load/nope"))[0] == 404


async def test_services_broadcast_to_everyone(simulator):
    await simulator.set_service("Voice", "Inactive")
    message = simulator.notifications(channel="/notifications/services")[-1]
    assert message == sample("cometd_service_inactive") | {"data": sample("cometd_service_inactive")["data"]}
    await simulator.set_service("voice", "Active")
    assert_same_shape(simulator.notifications(channel="/notifications/services")[-1], "cometd_service_active")
    assert (await simulator.status())["services"]["Voice"] == "Active"


async def test_log_records_rest_operations_and_clears(simulator):
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        await client.post("/me", {"operationName": "Ready"})
    entries = await simulator.log(clear=True)
    assert [(e["agent"], e["method"], e["path"], e["body"]) for e in entries] == [
        ("agent0001", "GET", "/api/v2/me", None),
        ("agent0001", "POST", "/api/v2/me", {"operationName": "Ready"}),
    ]
    assert all(isinstance(e["time"], float) for e in entries)
    assert await simulator.log() == []


async def test_status_counts(simulator):
    await simulator.start_call("agent0001")
    await simulator.send_interaction("agent0002", "chat")
    status = await simulator.status()
    assert status["agents"] == 5 and status["calls"] == 1 and status["interactions"] == 1
    assert status["cometdClients"] == 0 and status["notificationsPublished"] == 2


async def test_disconnect_reports_dropped_clients(simulator):
    assert await simulator.disconnect_cometd() == 0


async def test_settings_reads(simulator):
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        _, states = await client.get("/settings/agent-states")
        expected = sample("rest_get_settings_agent_states_response")
        assert set(states) == set(expected)
        assert expected["settings"] == [s for s in states["settings"] if s["operationName"] != "OutToLunch"]
        assert (await client.get("/settings/dispositions"))[1] == sample(
            "rest_get_settings_dispositions_response"
        )
        _, voice = await client.get("/settings/voice")
        filters = {
            s["name"]: s["value"] for s in sample("rest_get_settings_voice_filters_response")["settings"]
        }
        assert {s["name"]: s["value"] for s in voice["settings"]} == {
            "defaultTelephonyNetworkType": "Private",
            **filters,
        }
        _, tree = await client.get("/groups/dispositions?subresources=**")
        assert [d["name"] for d in tree["dispositions"]] == ["Disp1", "Disp2", "Disp3"]
        assert [d["name"] for d in tree["groups"][0]["dispositions"]] == ["Disp4", "Disp5", "Disp6"]
        _, first_level = await client.get("/groups/dispositions?subresources=*")
        assert "dispositions" not in first_level["groups"][0]
        assert (await client.get("/groups/dispositions-sub/dispositions"))[1] == {
            "dispositions": tree["groups"][0]["dispositions"]
        }
        assert (await client.get("/groups/nope"))[0] == 404


async def test_me_subresources_has_everything_for_recovery(simulator):
    call_id = await simulator.start_call("agent0001")
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        _, me = await client.get("/me?subresources=*")
    user = me["user"]
    expected = sample("rest_get_me_subresources")["user"]
    assert set(expected) - {"uri"} <= set(user)
    assert [c["id"] for c in user["calls"]] == [call_id]
    assert user["devices"][0]["phoneNumber"] == "5001"
    assert [c["channel"] for c in user["channels"]] == ["email", "chat"]


async def test_load_runs_call_flows_and_reports_progress(simulator):
    load_id = await simulator.start_load(agents=5, calls_per_second=40, seconds=0.5)
    deadline = asyncio.get_running_loop().time() + 10
    progress = await simulator.load_progress(load_id)
    while progress["running"] and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        progress = await simulator.load_progress(load_id)
    assert not progress["running"]
    assert progress["callsStarted"] == progress["callsAnswered"] == progress["callsCompleted"] == 20
    assert progress["notifications"] == 80  # ring, answer, attach data, release
    messages = simulator.notifications("agent0003")
    first = messages[0]["data"]["call"]["id"]
    kinds = [
        (n["data"]["notificationType"], n["data"]["call"]["state"])
        for n in messages
        if n["data"]["call"]["id"] == first
    ]
    assert kinds == [
        ("StatusChange", "Ringing"),
        ("StatusChange", "Established"),
        ("AttachedDataChanged", "Established"),
        ("StatusChange", "Released"),
    ]


async def test_a_running_load_can_be_stopped(simulator):
    load_id = await simulator.start_load(agents=2, calls_per_second=10, seconds=30)
    status, progress = await raw(simulator, "DELETE", f"/sim/load/{load_id}")
    assert status == 200 and progress["running"] is False
    assert (await simulator.load_progress(load_id))["callsStarted"] <= 1
