"""Parameter schemas: one pydantic model per action's ``params``, validated at the boundary.

Every schema forbids unknown fields, strips whitespace and is strict: a boolean is
``true`` or ``false`` (not ``"yes"``, ``1`` or ``"true"``), an integer is not a float
nor a string, a string is not a number. Ids that end up in GWS URL paths are
constrained to one safe path segment; ``user_data`` keeps to the input limits
(:mod:`bridge.commands.limits`) whichever dialect built the command.

Each schema with a required field declares valid examples (:func:`_examples`, values from the
seed samples): docs/openapi.json shows them, and the contract test sends each action's first
one to a live receiver, so a new action's params cannot go undocumented.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from bridge.commands.limits import input_violations

# Ids end up in URL paths: one path segment, no traversal, no spaces.
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,127}$")]
Text = Annotated[str, Field(min_length=1, max_length=256)]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9A-Za-z*#._-]{1,64}$")]


def _within_limits(value: dict[str, Any]) -> dict[str, Any]:
    errors = input_violations(value)
    if errors:
        first = errors[0]
        where = ".".join(first["loc"]) or "user_data"
        raise PydanticCustomError("input_limit", "{msg} (at {where})", {"msg": first["msg"], "where": where})
    return value


UserData = Annotated[dict[str, Any], Field(min_length=1, max_length=200), AfterValidator(_within_limits)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


def _examples(*examples: dict[str, Any], **schema: Any) -> ConfigDict:
    """Examples, and schema keywords that fields cannot say (inherited unless a subclass redeclares)."""
    return ConfigDict(json_schema_extra={**schema, "examples": list(examples)})


_CALL = "0071023821aec011"
_INTERACTION = "0000Ka8WP8G94H9A"


class NoParams(_Params):
    pass


class NotReadyParams(_Params):
    model_config = _examples({"reason": "OutToLunch"})

    reason: Text | None = None
    work_mode: Text | None = None


class AgentStateParams(_Params):
    model_config = _examples({"operation": "Training"})

    operation: Text  # an agent-state operation name, or its display name or reason code
    not_ready: bool = False  # only Not Ready states match (a reason code named by a CTI widget)


class DndParams(_Params):
    model_config = _examples({"on": True})

    on: bool


class ChannelStateParams(_Params):
    model_config = _examples({"channel": "email", "state": "Ready"})

    channel: Ident
    state: Text


class CallParams(_Params):
    model_config = _examples({"call_id": _CALL})

    call_id: Ident


class DispositionParams(_Params):
    model_config = _examples(
        {"call_id": _CALL, "disposition": "IssueResolved", "key": "DispositionCode"},
        {"call_uuid": "0PLTT6U9M53B1F5FBGHJ0JN4SO000001", "disposition": "IssueResolved"},
        anyOf=[  # what _one_call_reference checks
            {"required": [name], "properties": {name: {"type": "string"}}}
            for name in ("call_id", "call_uuid")
        ],
    )

    call_id: Ident | None = None
    call_uuid: Ident | None = None
    disposition: Text
    key: Text | None = None

    @model_validator(mode="after")
    def _one_call_reference(self) -> DispositionParams:
        if self.call_id is None and self.call_uuid is None:
            raise ValueError("call_id or call_uuid is required")
        return self


class DialParams(_Params):
    model_config = _examples({"destination": "+14155550123", "user_data": {"CaseId": "CS-1"}})

    destination: PhoneNumber
    user_data: UserData | None = None


class DtmfParams(CallParams):
    model_config = _examples({"call_id": _CALL, "digits": "12#"})

    digits: Annotated[str, Field(pattern=r"^[0-9*#]{1,64}$")]


class CallDataParams(CallParams):
    model_config = _examples({"call_id": _CALL, "user_data": {"CaseId": "CS-1"}})

    user_data: UserData


class DeleteDataParams(CallParams):
    model_config = _examples({"call_id": _CALL, "key": "CaseId"})

    key: Text | None = None


class CallDestinationParams(CallParams):
    model_config = _examples({"call_id": _CALL, "destination": "5003"})

    destination: PhoneNumber
    user_data: UserData | None = None


class CompleteParams(CallParams):
    model_config = _examples({"call_id": _CALL, "consult_call_id": "0071023821aec012"})

    consult_call_id: Ident | None = None


class InteractionParams(_Params):
    model_config = _examples({"interaction_id": _INTERACTION})

    interaction_id: Ident


class InteractionAcceptParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "nickname": "Ann"})

    nickname: Text | None = None


class PlaceInQueueParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "queue": "Email-Inbound"})

    queue: Text


class PlaceInWorkbinParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "workbin": "TestWorkbin"})

    workbin: Text


class InteractionTransferParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "user_id": "agent0002"})

    user_id: Ident


class InteractionDataParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "user_data": {"CaseId": "CS-1"}})

    user_data: UserData


class WorkbinPullParams(_Params):
    model_config = _examples({"workbin_id": "TestWorkbin", "interaction_id": _INTERACTION})

    workbin_id: Ident
    interaction_id: Ident


class SessionStartParams(_Params):
    model_config = _examples({"channels": ["voice", "email"], "place": "place_5001"})

    channels: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]], Field(min_length=1)]
    place: Text | None = None
    login_code: Text | None = None
    queue: Text | None = None


# -- voice: more call control, the supervisor -----------------------------------------------------


class OtherCallParams(CallParams):
    model_config = _examples({"call_id": _CALL, "other_call_id": "0071023821aec012"})

    other_call_id: Ident


class RemoveParticipantParams(CallParams):
    model_config = _examples({"call_id": _CALL, "participant": "5001"})

    participant: PhoneNumber


class MonitorParams(_Params):
    model_config = _examples(
        {"target_device_id": "9c14cad7-17c4-48d0-8492-7cf0ff92c224", "scope": "Call", "mode": "AllCalls"}
    )

    target_device_id: Ident  # the monitored agent's device (GWS builds targetDeviceUri from it)
    scope: Literal["Agent", "Call"] | None = None  # GWS default: Call
    mode: Literal["NextCall", "AllCalls"] | None = None  # GWS default: AllCalls


# -- agent: per-channel DND, forwarding, password ----------------------------------------------------


class ChannelDndParams(_Params):
    model_config = _examples({"channel": "chat", "on": True})

    channel: Ident
    on: bool


class AllChannelsStateParams(_Params):
    model_config = _examples({"state": "Ready"})

    state: Literal["Ready", "NotReady"]


class ForwardParams(_Params):
    model_config = _examples({"destination": "5001"})

    destination: PhoneNumber


Password = Annotated[str, Field(min_length=1, max_length=256, repr=False)]


class ChangePasswordParams(_Params):
    model_config = _examples({"old_password": "old-secret", "new_password": "new-secret"})

    # Never logged, never echoed in errors (validation errors carry no input), never in a reply.
    old_password: Password
    new_password: Password
    first_login: bool = False


# -- chat and e-mail ---------------------------------------------------------------------------------

MessageText = Annotated[str, Field(min_length=1, max_length=4096)]
EmailAddress = Annotated[str, Field(pattern=r"^[^\s@]{1,128}@[^\s@]{1,128}$")]
EmailAddresses = Annotated[str, Field(min_length=3, max_length=1024)]  # GWS's own comma-separated list


class ChatMessageParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "text": "How can I help?"})

    text: MessageText


class ChatAgentParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "agent_id": "agent0002"})

    agent_id: Ident


class ChatHistoryParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION})

    event_id: Ident | None = None


class InteractionDeleteDataParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "keys": ["CaseId"]})

    keys: Annotated[list[Text], Field(min_length=1, max_length=200)]


class EmailReplyParams(InteractionParams):
    model_config = _examples(
        {"interaction_id": _INTERACTION, "queue": "Email-Outbound", "quote_original": True}
    )

    queue: Text | None = None  # where the reply waits while the agent composes it
    subject_prefix: Text | None = None
    reply_to_start_line: Text | None = None
    indent_character: Annotated[str, Field(min_length=1, max_length=8)] | None = None
    quote_original: bool | None = None


class EmailSendParams(InteractionParams):
    model_config = _examples(
        {"interaction_id": _INTERACTION, "to": "ann@example.com", "subject": "Your case", "text": "Solved."}
    )

    to: EmailAddresses
    subject: Annotated[str, Field(max_length=998)]
    text: Annotated[str, Field(max_length=4096)]
    from_address: EmailAddress | None = None
    cc: EmailAddresses | None = None
    bcc: EmailAddresses | None = None
    queue: Text | None = None


class EmailCreateParams(_Params):
    model_config = _examples({"queue": "Email-Outbound"})

    queue: Text
    interaction_type: Text = "Outbound"
    interaction_sub_type: Text = "OutboundNew"


def _base64(value: str) -> str:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("base64", "content must be base64 (RFC 4648, no line breaks)") from None
    if not decoded:
        raise PydanticCustomError("base64", "content must not be empty")
    return value


class EmailAttachParams(InteractionParams):
    """A file for an e-mail (003:2648-2673): its bytes in base64, its name and MIME type."""

    model_config = _examples(
        {"interaction_id": _INTERACTION, "file_name": "invoice.pdf", "content": "JVBERi0xLjQK",
         "mime_type": "application/pdf"}
    )  # fmt: skip

    file_name: Annotated[str, Field(pattern=r'^[^"\\/\x00-\x1f\x7f]{1,255}$')]
    content: Annotated[str, Field(min_length=4, max_length=8 * 1024 * 1024), AfterValidator(_base64)]
    mime_type: Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$")] = (
        "application/octet-stream"
    )

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.content, validate=True)


class EmailAttachmentParams(InteractionParams):
    model_config = _examples({"interaction_id": _INTERACTION, "attachment_id": "00009a8T8Y13002S"})

    attachment_id: Ident  # the documentId GWS gave when it was attached


# -- workbins -------------------------------------------------------------------------------------------


class WorkbinParams(_Params):
    model_config = _examples({"workbin_id": "RW1haWxXb3JrYmluRHJhZnQvUHJpdmF0ZVZpZXc"})

    workbin_id: Ident


class WorkbinAddParams(WorkbinParams):
    model_config = _examples(
        {"workbin_id": "RW1haWxXb3JrYmluRHJhZnQvUHJpdmF0ZVZpZXc", "interaction_id": _INTERACTION}
    )

    interaction_id: Ident
