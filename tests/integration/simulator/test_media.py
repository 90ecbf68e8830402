"""E-mail and chat interactions and workbins over HTTP: envelopes and notifications vs the seeds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.simulator.shapes import assert_same_shape, sample
from tests.plugins.simulator import AgentClient, SimulatorHandle


@pytest.fixture
async def agent(simulator: SimulatorHandle) -> Any:
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        yield client


def interactions(simulator: SimulatorHandle, user: str = "agent0001") -> list[dict[str, Any]]:
    return simulator.notifications(user, "/v2/me/interactions")


async def op(client: AgentClient, interaction_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return await client.post(f"/me/interactions/{interaction_id}", body)


async def test_email_invite_accept_reply_send_complete(simulator, agent):
    email = await simulator.send_interaction(
        "agent0001", "email", subject="Order", text="Where is it?", user_data={"CustomerSegment": "default"}
    )
    invited = interactions(simulator)[-1]
    assert_same_shape(invited, "cometd_interaction_email_invited")
    assert invited["data"]["interaction"]["capabilities"] == ["Accept", "Reject"]
    assert invited["data"]["interaction"]["userData"]["Subject"] == "Order"

    assert await op(agent, email, {"operationName": "Accept"}) == (
        200,
        sample("rest_interaction_Accept_success"),
    )
    accepted = interactions(simulator)[-1]["data"]["interaction"]
    assert accepted["state"] == "Accepted" and "Reply" in accepted["capabilities"]
    assert accepted["content"]["text"] == "Where is it?" and isinstance(accepted["startDate"], int)

    status, reply = await op(agent, email, {"operationName": "ReplyAll", "queueName": "EmailOut"})
    assert status == 200 and set(reply) == set(sample("rest_interaction_email_ReplyAll_success"))
    created = interactions(simulator)[-1]
    assert_same_shape(created, "cometd_interaction_email_ReplyCreated_Reply")
    assert created["data"]["id"] == reply["replyInteractionId"]
    assert created["data"]["email_object"]["Subject"] == "Re: Order"
    send = await op(agent, reply["replyInteractionId"], {"operationName": "Send"})
    assert send == (200, sample("rest_interaction_email_Send_success"))

    assert await op(agent, email, {"operationName": "Complete"}) == (
        200,
        sample("rest_interaction_Complete_success"),
    )
    assert interactions(simulator)[-1]["data"]["interaction"]["state"] == "Completed"
    status, body = await agent.get("/me/interactions")
    assert body == {"statusCode": 0, "uris": []}


async def test_email_reject_is_revoked_in_flat_form(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email")
    assert await op(agent, email, {"operationName": "Reject"}) == (
        200,
        sample("rest_interaction_Reject_success"),
    )
    revoked = interactions(simulator)[-1]["data"]
    assert revoked["state"] == "Revoked" and revoked["capabilities"] == []
    assert revoked["email_object"] == {"interactionId": email} and "interaction" not in revoked


async def test_interaction_failures_use_the_operation_family(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email")
    status, body = await op(agent, email, {"operationName": "Complete"})  # not accepted yet
    assert status == 400 and set(body) == set(sample("rest_interaction_Complete_failure"))
    status, body = await op(agent, email, {"operationName": "PlaceInQueue"})
    assert status == 400 and set(body) == set(sample("rest_interaction_PlaceInQueue_failure"))
    status, body = await op(agent, email, {"operationName": "Cancel"})
    assert status == 400 and set(body) == set(sample("rest_interaction_Cancel_failure"))
    status, body = await op(agent, "nope", {"operationName": "Accept"})
    assert status == 404 and set(body) == set(sample("rest_interaction_Accept_failure"))


async def test_interaction_user_data_and_queue(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email")
    await op(agent, email, {"operationName": "Accept"})
    data = sample("rest_interaction_AttachUserData_request")["userData"]
    assert await op(agent, email, {"operationName": "AttachUserData", "userData": data}) == (
        200,
        sample("rest_interaction_AttachUserData_success"),
    )
    changed = interactions(simulator)[-1]["data"]["interaction"]
    assert changed["state"] == "PropertiesChanged" and changed["userData"]["field3"] == {
        "fieldA": "valueA",
        "fieldB": "valueB",
    }
    assert await op(agent, email, {"operationName": "UpdateUserData", "userData": {"field1": "new"}}) == (
        200,
        sample("rest_interaction_UpdateUserData_success"),
    )
    assert await op(agent, email, {"operationName": "DeleteUserData", "userData": {"field2": ""}}) == (
        200,
        sample("rest_interaction_DeleteUserData_success"),
    )
    user_data = interactions(simulator)[-1]["data"]["interaction"]["userData"]
    assert user_data["field1"] == "new" and "field2" not in user_data
    assert await op(agent, email, {"operationName": "PlaceInQueue", "queueName": "Back"}) == (
        200,
        sample("rest_interaction_PlaceInQueue_success"),
    )
    assert interactions(simulator)[-1]["data"]["interaction"]["state"] == "Queued"


async def test_interaction_transfer_to_another_agent(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email")
    await op(agent, email, {"operationName": "Accept"})
    assert await op(agent, email, {"operationName": "Transfer", "userId": "agent0002"}) == (
        200,
        sample("rest_interaction_SingleStepTransfer_success"),
    )
    assert interactions(simulator)[-1]["data"]["state"] == "Revoked"
    assert interactions(simulator, "agent0002")[-1]["data"]["interaction"]["state"] == "Invited"


async def test_chat_invite_accept_transcript_and_end(simulator, agent):
    chat = await simulator.send_interaction("agent0001", "chat", subject="Help", text="Hi there")
    invited = interactions(simulator)[-1]
    assert_same_shape(invited, "cometd_interaction_chat_invited")
    assert await op(agent, chat, {"operationName": "Accept", "nickname": "Ann"}) == (
        200,
        sample("rest_interaction_chat_Accept_success"),
    )
    accepted = interactions(simulator)[-1]["data"]["interaction"]
    assert accepted["state"] == "Accepted" and "Send" in accepted["capabilities"]
    assert [e["messageType"] for e in accepted["content"]["events"]] == [
        "PARTY_JOINED",
        "MESSAGE",
        "PARTY_JOINED",
    ]

    await simulator.chat_message(chat, "Is anyone there?")
    changed = interactions(simulator)[-1]
    assert_same_shape(changed, "cometd_interaction_chat_PropertiesChanged")
    events = changed["data"]["interaction"]["content"]["events"]
    assert [e.get("text") for e in events if e["messageType"] == "MESSAGE"] == [
        "Hi there",
        "Is anyone there?",
    ]
    assert changed["data"]["interaction"]["content"]["latestEventId"] == events[-1]["id"] == 4

    for operation, extra in (
        ("SendStartTypingNotification", {}),
        ("SendMessage", {"text": "Yes!"}),
        ("SendStopTypingNotification", {}),
        ("RequestChatHistory", {}),
    ):
        status, body = await op(agent, chat, {"operationName": operation, **extra})
        assert (status, body) == (200, {"statusCode": 0}), operation
    transcript = interactions(simulator)[-1]["data"]["interaction"]["content"]["events"]
    assert [e.get("noticeType", e["messageType"]) for e in transcript[4:]] == [
        "TypingStarted",
        "MESSAGE",
        "TypingStopped",
    ]
    assert await op(agent, chat, {"operationName": "EndChatSession"}) == (
        200,
        sample("rest_interaction_chat_EndChatSession_success"),
    )
    assert (
        interactions(simulator)[-1]["data"]["interaction"]["content"]["events"][-1]["messageType"]
        == "PARTY_LEFT"
    )
    assert await op(agent, chat, {"operationName": "Complete"}) == (200, {"statusCode": 0})


async def test_chat_reject_revoked_flat(simulator, agent):
    chat = await simulator.send_interaction("agent0001", "chat")
    await op(agent, chat, {"operationName": "Reject"})
    assert_same_shape(interactions(simulator)[-1], "cometd_interaction_chat_revoked")


async def test_chat_invite_user(simulator, agent):
    chat = await simulator.send_interaction("agent0001", "chat")
    await op(agent, chat, {"operationName": "Accept"})
    assert await op(agent, chat, {"operationName": "InviteUser", "agentId": "agent0002"}) == (
        200,
        sample("rest_interaction_chat_InviteUser_success"),
    )
    assert interactions(simulator, "agent0002")[-1]["data"]["id"] == chat
    assert await op(agent, chat, {"operationName": "LeaveConference", "agentId": "agent0001"}) == (
        200,
        sample("rest_interaction_chat_LeaveConference_success"),
    )


async def test_interactions_read_back_for_recovery(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email")
    _, body = await agent.get("/me/interactions?fields=*")
    assert set(body) == set(sample("rest_get_me_interactions_fields_response"))
    assert body["interactions"][0] == interactions(simulator)[-1]["data"]["interaction"]
    _, single = await agent.get(f"/me/interactions/{email}")
    assert single["interaction"]["id"] == email
    _, me = await agent.get("/me?subresources=*")
    assert [i["id"] for i in me["user"]["interactions"]] == [email]


async def test_workbins_place_list_pull_and_subscribe(simulator, agent):
    status, body = await agent.get("/me/workbins")
    assert status == 200 and body["status"] == 0
    assert set(body["workbins"][0]) == set(sample("rest_get_workbins_types_response")["workbins"][0])
    workbin_id = next(w["workbinId"] for w in body["workbins"] if w["workbinName"] == "TestWorkbin")
    assert await agent.post(f"/me/workbins/{workbin_id}", {"operationName": "Subscribe"}) == (
        200,
        sample("rest_workbin_Subscribe_success"),
    )

    email = await simulator.send_interaction("agent0001", "email", user_data={"Sublist": {"subkey": "v"}})
    await op(agent, email, {"operationName": "Accept"})
    status, added = await agent.post(f"/me/workbins/{workbin_id}/interactions", {"interactionId": email})
    assert status == 200 and set(added) == set(sample("rest_workbin_AddInteraction_success"))
    placed = simulator.notifications("agent0001", "/v2/me/workbins")[-1]
    assert_same_shape(placed, "cometd_workbin_placed_in")
    assert placed["data"]["workbinContentOperation"] == "PlacedIn"

    status, content = await agent.get(f"/me/workbins/{workbin_id}/interactions?fields=*")
    item = content["interactions"][0]
    assert status == 200 and item["InteractionId"] == email and item["Workbin"] == "TestWorkbin"

    other = await simulator.send_interaction("agent0001", "email")
    await op(agent, other, {"operationName": "Accept"})
    assert await op(agent, other, {"operationName": "PlaceInWorkbin", "workbin": "TestWorkbin"}) == (
        200,
        sample("rest_interaction_PlaceInWorkbin_success"),
    )
    assert await op(agent, email, {"operationName": "Accept"}) == (
        404,
        {"status": "error", "errorDescription": f"Interaction {email} not found"},
    )

    status, pulled = await agent.post(
        "/me/interactions", {"operationName": "PullInteractionFromWorkbin", "uri": added["uri"]}
    )
    assert (status, pulled) == (200, sample("rest_workbin_PullInteraction_success"))
    assert interactions(simulator)[-1]["data"]["interaction"]["state"] == "Pulled"
    status, failed = await agent.post(
        "/me/interactions", {"operationName": "PullInteractionFromWorkbin", "uri": added["uri"]}
    )
    assert status == 404 and set(failed) == set(sample("rest_workbin_PullInteraction_failure"))
    assert await agent.post("/me/workbins", {"operationName": "Unsubscribe"}) == (
        200,
        sample("rest_workbin_Unsubscribe_success"),
    )


async def test_create_outbound_email(simulator, agent):
    body = {
        "operationName": "Create",
        "queueName": "Out",
        "interactionType": "Outbound",
        "interactionSubType": "OutboundNew",
    }
    assert await agent.post("/me/interactions", body) == (
        200,
        sample("rest_interaction_email_Create_success"),
    )
    created = interactions(simulator)[-1]["data"]
    assert created["state"] == "ReplyCreated" and created["interactionSubType"] == "OutboundNew"


async def test_unanswered_invitation_is_revoked(simulator_factory):
    handle = await simulator_factory(interaction_invite_timeout=0.1)
    email = await handle.send_interaction("agent0001", "email")
    revoked = await handle.wait_for_notification(
        lambda n: n["data"].get("state") == "Revoked" and n["data"]["id"] == email, user="agent0001"
    )
    # the e-mail Revoked form is the chat one plus email_object (003:3082-3150)
    chat_form = sample("cometd_interaction_chat_revoked")[0]["data"]
    assert set(revoked["data"]) == set(chat_form) | {"email_object"}
    assert revoked["data"]["email_object"] == {"interactionId": email}
    assert handle.sim.state.users["agent0001"].interactions == {}


async def test_pull_accepts_a_percent_encoded_workbin_uri(simulator, agent):
    workbin = next(iter(simulator.sim.state.users["agent0001"].workbins.values()))
    email = await simulator.send_interaction("agent0001", "email")
    await op(agent, email, {"operationName": "Accept"})
    _, added = await agent.post(f"/me/workbins/{workbin.workbin_id}/interactions", {"interactionId": email})
    encoded = added["uri"].replace(workbin.workbin_id, workbin.workbin_id.replace("-", "%2D"))
    body = {"operationName": "PullInteractionFromWorkbin", "uri": encoded}
    assert await agent.post("/me/interactions", body) == (200, {"status": 0})


async def test_cancel_a_reply_and_get_workbin_content_operation(simulator, agent):
    email = await simulator.send_interaction("agent0001", "email", subject="Q")
    await op(agent, email, {"operationName": "Accept"})
    assert await op(agent, email, {"operationName": "Reply"}) == (
        200,
        sample("rest_interaction_email_Reply_success"),
    )
    reply_id = interactions(simulator)[-1]["data"]["id"]
    assert await op(agent, reply_id, {"operationName": "Cancel"}) == (
        200,
        sample("rest_interaction_Cancel_success"),
    )
    assert interactions(simulator)[-1]["data"]["state"] == "Revoked"
    await op(agent, email, {"operationName": "PlaceInWorkbin", "workbin": "TestWorkbin"})
    other = await simulator.send_interaction("agent0001", "chat")
    await op(agent, other, {"operationName": "Accept"})
    assert await op(agent, other, {"operationName": "GetWorkbinContent", "workbin": "TestWorkbin"}) == (
        200,
        sample("rest_interaction_GetWorkbinContent_success"),
    )
    parked = interactions(simulator)[-1]["data"]["interaction"]
    assert parked["id"] == email and parked["state"] == "Queued"


async def test_workbin_notifications_need_the_sessions_subscription(simulator, agent):
    _, body = await agent.get("/me/workbins")
    ids = {w["workbinName"]: w["workbinId"] for w in body["workbins"]}

    async def park(workbin: str) -> None:
        email = await simulator.send_interaction("agent0001", "email")
        await op(agent, email, {"operationName": "Accept"})
        await agent.post(f"/me/workbins/{ids[workbin]}/interactions", {"interactionId": email})

    def published() -> list[str]:
        return [
            n["data"]["workbinInfo"]["workbinTypeId"]
            for n in simulator.notifications("agent0001", "/v2/me/workbins")
        ]

    await park("TestWorkbin")
    assert published() == []  # nobody subscribed: GWS sends nothing (SubscribeWorkbinEvents, 003)
    await agent.post(f"/me/workbins/{ids['TestWorkbin']}", {"operationName": "Subscribe"})
    await park("TestWorkbin")
    await park("EmailWorkbinDraft")  # another workbin: not subscribed
    assert published() == ["TestWorkbin"]
    async with simulator.agent_client("agent0001") as other:  # a second HTTP session, subscribed to all
        await other.login()
        await other.post("/me/workbins", {"operationName": "Subscribe"})
        await park("EmailWorkbinDraft")
        assert published() == ["TestWorkbin", "EmailWorkbinDraft"]
        await other.post("/me/workbins", {"operationName": "Unsubscribe"})
    await agent.post(f"/me/workbins/{ids['TestWorkbin']}", {"operationName": "Unsubscribe"})
    await park("TestWorkbin")
    assert len(published()) == 2

    await agent.post(f"/me/workbins/{ids['TestWorkbin']}", {"operationName": "Subscribe"})
    await simulator.restart()  # the HTTP sessions end, and their subscriptions with them
    async with simulator.agent_client("agent0001") as again:
        await again.login()
        email = await simulator.send_interaction("agent0001", "email")
        await again.post(f"/me/interactions/{email}", {"operationName": "Accept"})
        await again.post(f"/me/workbins/{ids['TestWorkbin']}/interactions", {"interactionId": email})
    assert len(published()) == 2
