"""Signed slash commands and button clicks against the simulator: the GWS request, through /sim/log."""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.asyncio import Redis

from connectors.slack_blocks import ACTION_DISPOSITION
from tests.integration.slack.conftest import ChatopsHandle, SlackFactory, make_event
from tests.plugins.simulator import SimulatorHandle
from tests.plugins.slack import MockSlack

VOICE = "/api/v2/me/channels/voice"


async def operations(simulator: SimulatorHandle) -> list[tuple[str | None, str, str, Any]]:
    """The GWS operations (not the reads) since the last call, then forget them."""
    entries = await simulator.log(clear=True)
    return [(e.get("agent"), e["method"], e["path"], e["body"]) for e in entries if e["method"] != "GET"]


async def outcome(slack: MockSlack, count: int = 1) -> str:
    """The text of the ``count``-th message posted to a response_url."""
    posts = await slack.wait_for("response", count)
    body: dict[str, Any] = posts[count - 1].body
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


async def reason_state(simulator: SimulatorHandle) -> dict[str, Any]:
    """A Not Ready agent state with a reason code, as the simulated GWS defines it."""
    async with simulator.agent_client(simulator.agents[-1]) as client:
        status, body = await client.get("/settings/agent-states")
    assert status == 200, body
    states = [s for s in body["settings"] if s.get("reason") and s.get("state") == "NotReady"]
    assert states, "the simulator defines no agent state with a reason code"
    chosen: dict[str, Any] = states[-1]
    return chosen


async def answered_call(simulator: SimulatorHandle, agent: str = "agent0001") -> str:
    call_id = await simulator.start_call(agent)
    async with simulator.agent_client(agent) as client:
        await client.login()  # the session cookie and CSRF token
        status, body = await client.post(f"/me/calls/{call_id}", {"operationName": "Answer"})
    assert status == 200, body
    return call_id


async def test_agent_notready_with_a_reason_acknowledges_at_once_then_reports_the_outcome(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    with_reason = await reason_state(simulator)
    await simulator.log(clear=True)
    started = time.monotonic()
    status, body, _ = await chatops.slash("/agent", f"notready {with_reason['reason']}")
    assert time.monotonic() - started < 3.0
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["text"].startswith(":hourglass_flowing_sand: agent0001: Not Ready")
    text = await outcome(slack_api)
    assert text.startswith(":white_check_mark: agent0001: Not Ready"), text
    assert await operations(simulator) == [
        ("agent0001", "POST", VOICE, {"operationName": with_reason["operationName"]})
    ]


async def test_agent_ready_and_dnd(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await simulator.log(clear=True)
    assert (await chatops.slash("/agent", "ready"))[0] == 200
    assert "done" in await outcome(slack_api, 1)
    assert (await chatops.slash("/agent", "dnd on"))[0] == 200
    assert "do-not-disturb on" in await outcome(slack_api, 2)
    assert await operations(simulator) == [
        ("agent0001", "POST", VOICE, {"operationName": "Ready"}),
        ("agent0001", "POST", "/api/v2/me", {"operationName": "DoNotDisturbOn"}),
    ]


async def test_agent_status_reads_the_device_state(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await chatops.slash("/agent", "ready")
    await outcome(slack_api, 1)
    await simulator.log(clear=True)
    await chatops.slash("/agent", "status")
    assert "agent0001: *Ready*, DND off" in await outcome(slack_api, 2)
    assert await operations(simulator) == []  # a read only


async def test_dispo_without_a_call_id_dispositions_the_current_call(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    call_id = await answered_call(simulator)
    await simulator.log(clear=True)
    status, _, _ = await chatops.slash("/dispo", "IssueResolved")
    assert status == 200
    assert (await outcome(slack_api)).startswith(":white_check_mark: agent0001: disposition IssueResolved")
    ((agent, method, path, body),) = await operations(simulator)
    assert (agent, method, path) == ("agent0001", "POST", f"/api/v2/me/calls/{call_id}")
    assert body["operationName"] == "SetCallDisposition" and body["disposition"] == "IssueResolved"


async def test_a_disposition_button_under_the_bridges_own_message_sets_it(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack, slack_factory: SlackFactory
) -> None:
    call_id = await answered_call(simulator)
    # The connector posts the established call with its buttons; the user clicks one of them.
    connector = slack_factory(dispositions=["IssueResolved", "UpdateProvided"])
    await connector.send(make_event("call.established", call_id=call_id, agent="agent0001"))
    (posted,) = slack_api.of("chat.postMessage")
    buttons = [e for b in posted.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    update_provided = next(b for b in buttons if b["text"]["text"] == "UpdateProvided")
    assert update_provided["action_id"].startswith(ACTION_DISPOSITION)
    await simulator.log(clear=True)
    status, _, _ = await chatops.click(update_provided)
    assert status == 200
    text = await outcome(slack_api)
    assert text.startswith(":white_check_mark: agent0001: disposition UpdateProvided"), text
    assert slack_api.of("response")[0].body["replace_original"] is False
    ((_, _, path, body),) = await operations(simulator)
    assert path == f"/api/v2/me/calls/{call_id}" and body["disposition"] == "UpdateProvided"


async def test_ready_button_on_an_agent_state_message(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack, slack_factory: SlackFactory
) -> None:
    await slack_factory().send(make_event("agent.state_changed", agent="agent0001"))
    (posted,) = slack_api.of("chat.postMessage")
    ready = next(e for b in posted.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    await simulator.log(clear=True)
    await chatops.click(ready)
    assert "Ready done" in await outcome(slack_api)
    assert await operations(simulator) == [("agent0001", "POST", VOICE, {"operationName": "Ready"})]


async def test_an_unmapped_user_is_refused_ephemerally_with_no_gws_call(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await simulator.log(clear=True)
    status, body, _ = await chatops.slash("/agent", "ready", user="U0STRANGER")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert "not linked to a GWS agent" in body["text"]
    status, body, _ = await chatops.slash("/agent", "ready", user="U0GHOST")  # mapped to no configured agent
    assert "not configured" in body["text"]
    await chatops.chatops.wait_idle()
    assert await simulator.log() == [] and slack_api.of("response") == []


async def test_a_button_for_someone_elses_agent_is_refused_with_no_gws_call(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await simulator.log(clear=True)
    value = orjson.dumps(
        {"agent": "agent0001", "call_id": "0071023c62a4a02a", "disposition": "IssueResolved"}
    )
    status, _, _ = await chatops.click(
        {"action_id": f"{ACTION_DISPOSITION}:0", "value": value.decode()}, user="U0AGENT2"
    )
    assert status == 200
    text = await outcome(slack_api)
    assert text.startswith(":no_entry:") and "agent0001" in text
    await chatops.chatops.wait_idle()
    assert await simulator.log() == []


async def test_dispo_on_another_agents_call_is_refused_with_no_gws_call(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_factory: SlackFactory, redis: Redis
) -> None:
    # agent0002's call was posted to Slack: the bridge knows whose it is.
    call_id = await simulator.start_call("agent0002")
    await slack_factory().send(make_event("call.ringing", call_id=call_id, agent="agent0002"))
    await simulator.log(clear=True)
    status, body, _ = await chatops.slash("/dispo", f"IssueResolved {call_id}", user="U0AGENT1")
    assert status == 200 and body["text"].startswith(":no_entry: Call") and "not yours" in body["text"]
    await chatops.chatops.wait_idle()
    assert await simulator.log() == []


async def test_bad_or_stale_signatures_are_401_with_no_gws_call(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await simulator.log(clear=True)
    body = chatops.slash_body("/agent", "ready")
    for path in ("/slack/commands", "/slack/interactions"):
        status, problem, _ = await chatops.post(path, body, secret="not-the-signing-secret")
        assert status == 401 and "does not match" in problem["detail"]
        status, problem, _ = await chatops.post(path, body, at=time.time() - 360)
        assert status == 401 and "5 minutes" in problem["detail"]
        status, _, _ = await chatops.post(path, body, headers={"X-Slack-Signature": ""})
        assert status == 401
        tampered = body.replace(b"ready", b"notready")
        status, _, _ = await chatops.post(path, tampered, headers=chatops.signed(body))
        assert status == 401
    await chatops.chatops.wait_idle()
    assert await simulator.log() == [] and slack_api.calls == []


async def test_slack_retries_and_replays_never_repeat_a_command(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    await simulator.log(clear=True)
    body = chatops.slash_body("/agent", "ready", trigger="trigger-1")
    assert (await chatops.post("/slack/commands", body))[0] == 200
    # Slack's retry of the same command (new timestamp, retry headers) and an exact replay.
    status, _, headers = await chatops.post(
        "/slack/commands", body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200 and headers["X-Slack-No-Retry"] == "1"
    assert (await chatops.post("/slack/commands", body))[0] == 200
    await outcome(slack_api)
    await chatops.chatops.wait_idle()
    assert len(await operations(simulator)) == 1
    assert len(slack_api.of("response")) == 1


async def test_usage_help_for_unknown_subcommands(chatops: ChatopsHandle, simulator: SimulatorHandle) -> None:
    await simulator.log(clear=True)
    _, body, _ = await chatops.slash("/agent", "dance")
    assert "/agent ready" in body["text"]
    _, body, _ = await chatops.slash("/dispo", "")
    assert "/dispo <disposition>" in body["text"]
    assert await simulator.log() == []


async def test_dispo_naming_a_call_that_is_not_the_users_is_refused_without_an_operation(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack
) -> None:
    # Nothing was posted about this call: the bridge asks GWS for the user's own calls (a read only).
    call_id = await simulator.start_call("agent0002")
    await simulator.log(clear=True)
    status, body, _ = await chatops.slash("/dispo", f"IssueResolved {call_id}", user="U0AGENT1")
    assert status == 200 and body["text"].startswith(":hourglass_flowing_sand:")
    text = await outcome(slack_api)
    assert text.startswith(f":no_entry: Call {call_id} is not one of agent0001's calls"), text
    entries = await simulator.log()
    assert entries and all(e["method"] == "GET" for e in entries)
