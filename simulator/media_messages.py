"""E-mail, chat and workbin payloads, shaped like the seed samples (Interactions and Workbins APIs).

Pure functions of the simulator's :class:`~simulator.model.Interaction`: the same ones serve
CometD notifications (``/v2/me/interactions``, ``/v2/me/workbins``) and REST reads
(``/me/interactions``, a workbin's content), so what a client rebuilds after a reconnect is
exactly what it would have seen live. Voice, device and channel payloads: ``messages.py``.
"""

from __future__ import annotations

from typing import Any

from simulator.model import Interaction, InteractionState, MediaChannel, User

__all__ = [
    "interaction_capabilities",
    "interaction_flat_message",
    "interaction_json",
    "interaction_nested_message",
    "reply_created_message",
    "workbin_content_json",
    "workbin_message",
]

_INVITED_CAPS = ["Accept", "Reject"]
_EMAIL_ACCEPTED_CAPS = [
    "StopProcessing", "UpdateUserData", "AttachUserData", "DeleteUserData",
    "PlaceInWorkbin", "SingleStepTransfer", "Reply", "ReplyAll",
]  # fmt: skip
_CHAT_ACCEPTED_CAPS = [
    "StopProcessing", "UpdateUserData", "AttachUserData", "DeleteUserData", "PlaceInWorkbin",
    "SingleStepTransfer", "LeaveChat", "EndChatSession", "SingleStepConference", "RequestChatHistory", "Send",
]  # fmt: skip
_REPLY_CAPS = ["Cancel", "Send", "PlaceInWorkbin", "UpdateProperties", "LinkAttachment"]


def interaction_capabilities(interaction: Interaction) -> list[str]:
    if interaction.state is InteractionState.INVITED:
        return list(_INVITED_CAPS)
    if interaction.state in (InteractionState.ACCEPTED, InteractionState.PULLED):
        if interaction.channel is MediaChannel.CHAT:
            return list(_CHAT_ACCEPTED_CAPS)
        return list(_EMAIL_ACCEPTED_CAPS)
    if interaction.state is InteractionState.REPLY_CREATED:
        return list(_REPLY_CAPS)
    return []


def interaction_json(interaction: Interaction, *, with_capabilities: bool = True) -> dict[str, Any]:
    """The nested ``interaction`` object (Invited/Accepted e-mail, Accepted/PropertiesChanged chat)."""
    body: dict[str, Any] = {
        "userData": dict(interaction.user_data),
        "currentQueue": interaction.queue,
    }
    if interaction.start_date is not None:
        body["startDate"] = interaction.start_date
    body["subType"] = interaction.interaction_sub_type
    body["inQueues"] = {interaction.queue: ""}
    if with_capabilities:
        body["capabilities"] = interaction_capabilities(interaction)
    body["content"] = _content(interaction)
    if interaction.channel is MediaChannel.EMAIL:
        body["outQueues"] = {"EmailOutQueue": ""}
    body["state"] = interaction.state.value
    if interaction.thread_id and interaction.start_date is not None:
        body["threadId"] = interaction.thread_id
    body["type"] = interaction.interaction_type
    body["id"] = interaction.id
    body["channel"] = interaction.channel.value
    return body


def _content(interaction: Interaction) -> dict[str, Any]:
    if interaction.channel is MediaChannel.CHAT:
        latest = interaction.events[-1]["id"] if interaction.events else 0
        return {"latestEventId": latest, "sessionId": interaction.id, "events": list(interaction.events)}
    if interaction.state is InteractionState.INVITED:
        return {"interactionId": interaction.id}
    return {
        "text": interaction.text,
        "interactionId": interaction.id,
        "fromAddress": interaction.from_address,
        "toAddress": interaction.to_address,
        "subject": interaction.subject,
    }


def interaction_nested_message(interaction: Interaction, *, with_capabilities: bool = True) -> dict[str, Any]:
    return {
        "interaction": interaction_json(interaction, with_capabilities=with_capabilities),
        "messageType": "InteractionStateMessage",
    }


def interaction_flat_message(interaction: Interaction) -> dict[str, Any]:
    """The flat form (chat Invited/Revoked, e-mail Revoked): fields straight in ``data``."""
    body: dict[str, Any] = {"userData": dict(interaction.user_data)}
    if interaction.channel is MediaChannel.EMAIL:
        body["email_object"] = {"interactionId": interaction.id}
    body.update(
        {
            "currentQueue": interaction.queue,
            "interactionSubType": interaction.interaction_sub_type,
            "capabilities": interaction_capabilities(interaction),
            "state": interaction.state.value,
            "messageType": "InteractionStateMessage",
            "id": interaction.id,
            "channel": interaction.channel.value,
            "interactionType": interaction.interaction_type,
        }
    )
    return body


def reply_created_message(reply: Interaction, cc: str = "") -> dict[str, Any]:
    """E-mail ReplyCreated: key ``messageTypeName`` and an ``email_object`` (quirks B3, C3)."""
    return {
        "messageTypeName": "InteractionStateMessage",
        "id": reply.id,
        "channel": "email",
        "email_object": {
            "ToAddress": reply.to_address,
            "FromAddress": reply.from_address,
            "CCAddresses": cc,
            "Subject": reply.subject,
            "Text": reply.text,
            "StructuredText": reply.text,
            "MimeType": "text/plain",
            "StructuredTextMimeType": "text/html",
        },
        "interactionType": "Email",
        "interactionSubType": "OutboundReply",
        "receivedAt": "",
        "state": "ReplyCreated",
        "capabilities": interaction_capabilities(reply),
    }


def workbin_message(
    interaction: Interaction, user: User, workbin_name: str, *, operation: str, content_operation: str
) -> dict[str, Any]:
    return {
        "messageType": "workbinNotificationResource",
        "operation": operation,
        "workbinContentOperation": content_operation,
        "interaction": {
            "userData": dict(interaction.user_data),
            "currentQueue": f"{workbin_name}/PrivateQueue",
            "interactionSubtType": interaction.interaction_sub_type,
            "state": "Queued",
            "parentId": interaction.parent_id,
            "id": interaction.id,
            "channel": interaction.channel.value,
            "interactionType": interaction.interaction_type,
        },
        "workbinInfo": {
            "workbinTypeId": workbin_name,
            "workbinGroupId": None,
            "workbinPlaceGroupId": None,
            "workbinAgentId": user.user_name,
            "workbinPlaceId": None,
        },
        "actorInfo": {
            "agentId": user.user_name,
            "actorMediaServerId": "gws-simulator",
            "actorType": "MediaServer",
            "actorPlaceId": None,
        },
        "reasonInfo": {"reason": 0, "reasonDescription": "", "reasonName": ""},
    }


def workbin_content_json(interaction: Interaction, user: User, workbin_name: str) -> dict[str, Any]:
    """Raw Interaction Server attributes, as ``GET /me/workbins/{id}/interactions`` returns them."""
    item: dict[str, Any] = dict(interaction.user_data)
    item.update(
        {
            "InteractionId": interaction.id,
            "MediaType": interaction.channel.value,
            "InteractionType": interaction.interaction_type,
            "InteractionSubtype": interaction.interaction_sub_type,
            "Workbin": workbin_name,
            "Queue": f"{workbin_name}/PrivateQueue",
            "WorkbinAgentId": user.user_name,
            "AssignedTo": user.user_name,
            "Subject": interaction.subject,
            "FromAddress": interaction.from_address,
            "To": interaction.to_address,
            "IsHeld": 0,
            "IsLocked": 0,
            "InteractionState": 0,
        }
    )
    return item
