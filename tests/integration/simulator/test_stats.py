"""The Statistics API (seed 003): latest and range replies, errors, values that follow the
simulator's calls and agents, configured definitions, and the overload control."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.integration.simulator.shapes import assert_same_shape

AUTH = aiohttp.encode_basic_auth("agent0001", "password")


async def stats(simulator: Any, path: str, auth: str | None = AUTH) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{simulator.base_url}/api/v1/stats/{path}", headers={"Authorization": auth} if auth else {}
        ) as reply,
    ):
        return reply.status, await reply.json(content_type=None)


async def control(simulator: Any, path: str, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(simulator.base_url + path, json=body) as reply,
    ):
        return reply.status, await reply.json()


async def latest(simulator: Any, object_id: str = "VQ_Support") -> dict[str, Any]:
    status, body = await stats(simulator, object_id)
    assert status == 200, body
    return {item["statistic"]: item["value"] for item in body["statistics"]}


async def test_latest_and_range_have_the_sample_shapes(simulator):
    status, body = await stats(simulator, "VQ_Support")
    assert status == 200 and body["statusCode"] == 0 and body["objectId"] == "VQ_Support"
    assert_same_shape(body, "rest_get_stats_latest_response")
    assert all(
        isinstance(item["time"], int) and item["time"] > 1_700_000_000_000 for item in body["statistics"]
    )
    status, ranged = await stats(simulator, "VQ_Support/Current_In_Queue?numValues=5")
    assert status == 200
    assert_same_shape(ranged, "rest_get_stats_range_response")
    assert [s["statistic"] for s in ranged["statistics"]] == ["Current_In_Queue"]


async def test_values_follow_calls_answers_and_abandons(simulator):
    before = await latest(simulator)
    assert before["Current_In_Queue"] == 0 and before["ServiceLevel"] == 100.0
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        first = await simulator.start_call("agent0001")
        second = await simulator.start_call("agent0002")
        assert (await latest(simulator))["Current_In_Queue"] == 2
        status, _ = await client.post(f"/me/calls/{first}", {"operationName": "Answer"})
        assert status == 200
        await simulator.release_call(second)
    after = await latest(simulator)
    assert (after["Total_Entered"], after["Total_Answered"], after["Total_Abandoned"]) == (2, 1, 1)
    assert after["Current_In_Queue"] == 0 and after["ServiceLevel"] == 50.0
    status, ranged = await stats(simulator, "VQ_Support/Current_In_Queue?numValues=10")
    values = ranged["statistics"][0]["values"]
    assert [v["value"] for v in values] == [0, 1, 2, 1, 0]
    times = [v["time"] for v in values]
    assert times == sorted(times, reverse=True)
    # the default is one value; from/to choose by time (every value in the range)
    assert len((await stats(simulator, "VQ_Support/Current_In_Queue"))[1]["statistics"][0]["values"]) == 1
    window = f"from={times[3]}&to={times[1]}"
    _, chosen = await stats(simulator, f"VQ_Support/Current_In_Queue?{window}")
    assert [v["time"] for v in chosen["statistics"][0]["values"]] == [
        t for t in times if times[3] <= t <= times[1]
    ]


async def test_agent_counts_follow_agent_states(simulator):
    assert (await latest(simulator, "Skill_Support"))["CurrentReadyAgents"] == 0
    async with simulator.agent_client("agent0003") as client:
        await client.login()
        assert (await client.post("/me", {"operationName": "Ready"}))[0] == 200
        assert (await latest(simulator, "Skill_Support"))["CurrentReadyAgents"] == 1
        await client.post("/me", {"operationName": "NotReady"})
    figures = await latest(simulator, "Skill_Support")
    assert figures["CurrentReadyAgents"] == 0 and figures["CurrentNotReadyAgents"] >= 1


async def test_errors_have_the_gws_error_shape(simulator):
    status, body = await stats(simulator, "VQ_Nowhere")
    assert status == 404 and body["statusCode"] == 6 and "VQ_Nowhere" in body["statusMessage"]
    status, body = await stats(simulator, "VQ_Support/NoSuchStatistic")
    assert status == 404 and body["statusCode"] == 6 and "NoSuchStatistic" in body["statusMessage"]
    status, body = await stats(simulator, "VQ_Support/Current_In_Queue?numValues=0")
    assert status == 400 and body["statusCode"] == 1 and "numValues" in body["statusMessage"]
    status, body = await stats(simulator, "VQ_Support/Current_In_Queue?from=yesterday")
    assert status == 400 and "from" in body["statusMessage"]
    assert (await stats(simulator, "VQ_Support", auth=None))[0] == 401


async def test_overload_control_fills_and_drains_a_queue(simulator):
    status, reply = await control(simulator, "/sim/queues/VQ_Support/overload", {"waiting": 12})
    assert (status, reply) == (200, {"objectId": "VQ_Support", "waiting": 12})
    figures = await latest(simulator)
    assert figures["Current_In_Queue"] == 12 and figures["Total_Entered"] == 12
    await control(simulator, "/sim/queues/VQ_Support/overload", {"waiting": 2, "abandon": True})
    figures = await latest(simulator)
    assert (figures["Current_In_Queue"], figures["Total_Abandoned"], figures["ServiceLevel"]) == (2, 10, 0.0)
    assert (await control(simulator, "/sim/queues/VQ_Nowhere/overload", {"waiting": 1}))[0] == 404
    assert (await control(simulator, "/sim/queues/VQ_Support/overload", {"waiting": -1}))[0] == 400
    assert (await control(simulator, "/sim/queues/VQ_Support/overload", [1]))[0] == 400


async def test_statistics_and_queues_come_from_the_users_file(simulator_factory, tmp_path):
    users = tmp_path / "users.toml"
    users.write_text(
        """
[[users]]
userName = "ann"
password = "pw"
dn = "7001"

[[users]]
userName = "bob"
password = "pw"
dn = "7002"

[[statistics]]
name = "Waiting"
statisticDefinitionName = "CurrNumberWaitingCalls"
objectType = "QUEUE"
notificationMode = "PERIODICAL"
notificationFrequency = 5

[[queues]]
id = "VQ_Ann"
agents = ["ann"]
""",
        encoding="utf-8",
    )
    simulator = await simulator_factory(users_file=users)
    await simulator.start_call("bob")
    auth = aiohttp.encode_basic_auth("ann", "pw")
    status, body = await stats(simulator, "VQ_Ann", auth=auth)
    assert status == 200 and [(s["statistic"], s["value"]) for s in body["statistics"]] == [("Waiting", 0)]
    await simulator.start_call("ann")
    _, body = await stats(simulator, "VQ_Ann", auth=auth)
    assert body["statistics"][0]["value"] == 1
    assert (await stats(simulator, "VQ_Support", auth=auth))[0] == 404
