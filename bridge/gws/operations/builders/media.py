"""Multimedia interactions (8.5.1, catalogue §11): generic operations, e-mail and chat.

All are synchronous: GWS's reply (``{"status": "ok"}``, ``{"statusCode": 0}`` or
``{"status": 0}``) is the outcome; the interaction's new state then arrives on
``/v2/me/interactions`` as an ``InteractionStateMessage`` (the subscriber turns it into events).
"""

from __future__ import annotations

from typing import Any

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import SYNC, GwsRequest, Operation, operation_body, segment

__all__ = [
    "accept_interaction",
    "attach_interaction_data",
    "cancel_interaction",
    "complete_interaction",
    "create_email",
    "delete_interaction_data",
    "end_chat_session",
    "get_workbin_content_notifications",
    "interaction_operation",
    "invite_user",
    "leave_conference",
    "place_in_queue",
    "place_in_workbin",
    "reject_interaction",
    "reply",
    "reply_all",
    "request_chat_history",
    "send_email",
    "send_message",
    "start_typing",
    "stop_typing",
    "transfer_interaction",
    "update_interaction_data",
]

_ITEM = "/me/interactions/{interaction}"
_STATE = "the reply; then /v2/me/interactions InteractionStateMessage"


def interaction_operation(interaction_id: str, operation_name: str, **params: Any) -> Operation:
    """``POST /me/interactions/{id} {"operationName": …, **params}`` (``None`` params left out)."""
    body = operation_body(operation_name, **params)
    return Operation(GwsRequest("POST", f"/me/interactions/{segment(interaction_id)}", body), SYNC)


# -- generic (e-mail and chat) ----------------------------------------------------------------------


@operation(
    "interaction.Accept", "POST", _ITEM, confirms=f"{_STATE} (Accepted)", source="003:1987-2018; 2706-2740"
)
def accept_interaction(interaction_id: str, nickname: str | None = None) -> Operation:
    """``nickname`` is the agent's name shown in a chat."""
    return interaction_operation(interaction_id, "Accept", nickname=nickname)


@operation("interaction.Reject", "POST", _ITEM, confirms=f"{_STATE} (Revoked)", source="003:2020-2051")
def reject_interaction(interaction_id: str) -> Operation:
    return interaction_operation(interaction_id, "Reject")


@operation("interaction.Cancel", "POST", _ITEM, confirms="the reply ({status: 0})", source="003:2053-2084")
def cancel_interaction(interaction_id: str) -> Operation:
    """Abandon an incomplete reply (after Reply / ReplyAll), on the reply's interaction."""
    return interaction_operation(interaction_id, "Cancel")


@operation(
    "interaction.Complete", "POST", _ITEM, confirms=f"{_STATE} (ownership ends)", source="003:2086-2117"
)
def complete_interaction(interaction_id: str) -> Operation:
    return interaction_operation(interaction_id, "Complete")


@operation("interaction.PlaceInQueue", "POST", _ITEM, confirms=f"{_STATE} (Queued)", source="003:2119-2157")
def place_in_queue(interaction_id: str, queue_name: str) -> Operation:
    return interaction_operation(interaction_id, "PlaceInQueue", queueName=queue_name)


@operation("interaction.UpdateUserData", "POST", _ITEM, confirms=_STATE, source="003:2159-2200")
def update_interaction_data(interaction_id: str, user_data: dict[str, Any]) -> Operation:
    return interaction_operation(interaction_id, "UpdateUserData", userData=user_data)


@operation("interaction.AttachUserData", "POST", _ITEM, confirms=_STATE, source="003:2202-2243")
def attach_interaction_data(interaction_id: str, user_data: dict[str, Any]) -> Operation:
    return interaction_operation(interaction_id, "AttachUserData", userData=user_data)


@operation("interaction.DeleteUserData", "POST", _ITEM, confirms=_STATE, source="003:2245-2286")
def delete_interaction_data(interaction_id: str, keys: list[str]) -> Operation:
    """``userData`` names the keys to delete (003:2245): sent as ``{key: ""}``."""
    return interaction_operation(interaction_id, "DeleteUserData", userData={key: "" for key in keys})


@operation(
    "interaction.PlaceInWorkbin",
    "POST",
    _ITEM,
    confirms=f"{_STATE}; /v2/me/workbins PlacedIn",
    source="003:2288-2318",
)
def place_in_workbin(interaction_id: str, workbin: str) -> Operation:
    return interaction_operation(interaction_id, "PlaceInWorkbin", workbin=workbin)


@operation(
    "interaction.GetWorkbinContent",
    "POST",
    _ITEM,
    confirms="the reply; the content arrives as InteractionStateMessages",
    source="003:2320-2354",
)
def get_workbin_content_notifications(interaction_id: str, workbin: str) -> Operation:
    return interaction_operation(interaction_id, "GetWorkbinContent", workbin=workbin)


@operation(
    "interaction.Transfer",
    "POST",
    _ITEM,
    name="Transfer (SingleStepTransfer)",
    confirms=f"{_STATE} (ownership ends)",
    source="003:2356-2386",
)
def transfer_interaction(interaction_id: str, user_id: str) -> Operation:
    """Single-step transfer to another agent: the sample's ``"operationName": "Transfer"``."""
    return interaction_operation(interaction_id, "Transfer", userId=user_id)


# -- e-mail (003:2398-2678) ---------------------------------------------------------------------------


def _reply(
    operation_name: str,
    interaction_id: str,
    *,
    queue_name: str | None,
    subject_prefix: str | None,
    reply_to_start_line: str | None,
    indent_character: str | None,
    quote_original: bool | None,
) -> Operation:
    return interaction_operation(
        interaction_id,
        operation_name,
        subjectPrefix=subject_prefix,
        replyToStartLine=reply_to_start_line,
        indentCharacter=indent_character,
        # the seed's sample sends the boolean as a string
        quoteOriginal=None if quote_original is None else str(quote_original).lower(),
        queueName=queue_name,
    )


@operation(
    "email.Reply",
    "POST",
    _ITEM,
    confirms=f"{_STATE}: a new OutboundReply in state ReplyCreated",
    source="003:2420-2487",
)
def reply(
    interaction_id: str,
    *,
    queue_name: str | None = None,
    subject_prefix: str | None = None,
    reply_to_start_line: str | None = None,
    indent_character: str | None = None,
    quote_original: bool | None = None,
) -> Operation:
    return _reply(
        "Reply",
        interaction_id,
        queue_name=queue_name,
        subject_prefix=subject_prefix,
        reply_to_start_line=reply_to_start_line,
        indent_character=indent_character,
        quote_original=quote_original,
    )


@operation(
    "email.ReplyAll",
    "POST",
    _ITEM,
    confirms="the reply (with replyInteractionId); then the OutboundReply's ReplyCreated",
    source="003:2489-2562",
)
def reply_all(
    interaction_id: str,
    *,
    queue_name: str | None = None,
    subject_prefix: str | None = None,
    reply_to_start_line: str | None = None,
    indent_character: str | None = None,
    quote_original: bool | None = None,
) -> Operation:
    return _reply(
        "ReplyAll",
        interaction_id,
        queue_name=queue_name,
        subject_prefix=subject_prefix,
        reply_to_start_line=reply_to_start_line,
        indent_character=indent_character,
        quote_original=quote_original,
    )


@operation("email.Send", "POST", _ITEM, confirms="the reply ({status: ok})", source="003:2564-2610")
def send_email(interaction_id: str, email: dict[str, str], *, queue_name: str | None = None) -> Operation:
    """``email`` is the seed's ``email_object``: ``toAddress``, ``subject``, ``text``, ``fromAddress``,
    ``ccAddress``?, ``bccAddress``?"""
    return interaction_operation(interaction_id, "Send", queueName=queue_name, email_object=dict(email))


@operation(
    "email.Create",
    "POST",
    "/me/interactions",
    confirms=f"{_STATE}: the new e-mail (ReplyCreated)",
    source="003:2612-2646",
)
def create_email(
    queue_name: str, *, interaction_type: str = "Outbound", interaction_sub_type: str = "OutboundNew"
) -> Operation:
    body = operation_body(
        "Create",
        queueName=queue_name,
        interactionType=interaction_type,
        interactionSubType=interaction_sub_type,
    )
    return Operation(GwsRequest("POST", "/me/interactions", body), SYNC)


# -- chat (003:2680-2985) -------------------------------------------------------------------------------


@operation(
    "chat.SendMessage",
    "POST",
    _ITEM,
    confirms=f"{_STATE} (the message in content.events)",
    source="003:2812-2846",
)
def send_message(interaction_id: str, text: str) -> Operation:
    return interaction_operation(interaction_id, "SendMessage", text=text)


@operation(
    "chat.SendStartTypingNotification",
    "POST",
    _ITEM,
    confirms="the reply ({statusCode: 0})",
    source="003:2848-2881",
)
def start_typing(interaction_id: str) -> Operation:
    return interaction_operation(interaction_id, "SendStartTypingNotification")


@operation(
    "chat.SendStopTypingNotification",
    "POST",
    _ITEM,
    confirms="the reply ({statusCode: 0})",
    source="003:2883-2920",
)
def stop_typing(interaction_id: str) -> Operation:
    return interaction_operation(interaction_id, "SendStopTypingNotification")


@operation("chat.InviteUser", "POST", _ITEM, confirms=f"{_STATE} (a chat conference)", source="003:2742-2774")
def invite_user(interaction_id: str, agent_id: str) -> Operation:
    return interaction_operation(interaction_id, "InviteUser", agentId=agent_id)


@operation("chat.LeaveConference", "POST", _ITEM, confirms=_STATE, source="003:2947-2981")
def leave_conference(interaction_id: str, agent_id: str) -> Operation:
    """The last agent left keeps ownership (GWS decides)."""
    return interaction_operation(interaction_id, "LeaveConference", agentId=agent_id)


@operation(
    "chat.EndChatSession",
    "POST",
    _ITEM,
    confirms=f"{_STATE} (the interaction stays for wrap-up)",
    source="003:2776-2810",
)
def end_chat_session(interaction_id: str) -> Operation:
    return interaction_operation(interaction_id, "EndChatSession")


@operation(
    "chat.RequestChatHistory",
    "POST",
    _ITEM,
    confirms="the reply; the history arrives on /v2/me/interactions",
    source="003:2922-2945",
)
def request_chat_history(interaction_id: str, event_id: str | None = None) -> Operation:
    return interaction_operation(interaction_id, "RequestChatHistory", eventId=event_id)
