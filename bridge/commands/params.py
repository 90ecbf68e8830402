"""Parameter schemas: one pydantic model per action's ``params``, validated at the boundary.

Every schema forbids unknown fields, strips whitespace and is strict: a boolean is
``true`` or ``false`` (not ``"yes"``, ``1`` or ``"true"``), an integer is not a float
nor a string, a string is not a number. Ids that end up in GWS URL paths are
constrained to one safe path segment; ``user_data`` keeps to the input limits
(:mod:`bridge.commands.limits`) whichever dialect built the command.

Each schema with a required field declares valid examples (:func:`with_examples`, values from the
seed samples): docs/openapi.json shows them, and the contract test sends each action's first
one to a live receiver, so a new action's params cannot go undocumented. The interaction
actions' schemas (e-mail, chat, workbins) are in :mod:`bridge.commands.media_params`.
"""

from __future__ import annotations

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


class ParamsModel(BaseModel):
    """What every params model is: frozen, strict, unknown fields forbidden, whitespace stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


def with_examples(*examples: dict[str, Any], **schema: Any) -> ConfigDict:
    """Examples, and schema keywords that fields cannot say (inherited unless a subclass redeclares)."""
    return ConfigDict(json_schema_extra={**schema, "examples": list(examples)})


_CALL = "0071023821aec011"


class NoParams(ParamsModel):
    pass


class NotReadyParams(ParamsModel):
    model_config = with_examples({"reason": "OutToLunch"})

    reason: Text | None = None
    work_mode: Text | None = None


class AgentStateParams(ParamsModel):
    model_config = with_examples({"operation": "Training"})

    operation: Text  # an agent-state operation name, or its display name or reason code
    not_ready: bool = False  # only Not Ready states match (a reason code named by a CTI widget)


class DndParams(ParamsModel):
    model_config = with_examples({"on": True})

    on: bool


class ChannelStateParams(ParamsModel):
    model_config = with_examples({"channel": "email", "state": "Ready"})

    channel: Ident
    state: Text


class CallParams(ParamsModel):
    model_config = with_examples({"call_id": _CALL})

    call_id: Ident


class DispositionParams(ParamsModel):
    model_config = with_examples(
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


class DialParams(ParamsModel):
    model_config = with_examples({"destination": "+14155550123", "user_data": {"CaseId": "CS-1"}})

    destination: PhoneNumber
    user_data: UserData | None = None


class DtmfParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "digits": "12#"})

    digits: Annotated[str, Field(pattern=r"^[0-9*#]{1,64}$")]


class CallDataParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "user_data": {"CaseId": "CS-1"}})

    user_data: UserData


class DeleteDataParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "key": "CaseId"})

    key: Text | None = None


class CallDestinationParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "destination": "5003"})

    destination: PhoneNumber
    user_data: UserData | None = None


class CompleteParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "consult_call_id": "0071023821aec012"})

    consult_call_id: Ident | None = None


class SessionStartParams(ParamsModel):
    model_config = with_examples({"channels": ["voice", "email"], "place": "place_5001"})

    channels: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]], Field(min_length=1)]
    place: Text | None = None
    login_code: Text | None = None
    queue: Text | None = None


# -- voice: more call control, the supervisor -----------------------------------------------------


class OtherCallParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "other_call_id": "0071023821aec012"})

    other_call_id: Ident


class RemoveParticipantParams(CallParams):
    model_config = with_examples({"call_id": _CALL, "participant": "5001"})

    participant: PhoneNumber


class MonitorParams(ParamsModel):
    model_config = with_examples(
        {"target_device_id": "9c14cad7-17c4-48d0-8492-7cf0ff92c224", "scope": "Call", "mode": "AllCalls"}
    )

    target_device_id: Ident  # the monitored agent's device (GWS builds targetDeviceUri from it)
    scope: Literal["Agent", "Call"] | None = None  # GWS default: Call
    mode: Literal["NextCall", "AllCalls"] | None = None  # GWS default: AllCalls


# -- agent: per-channel DND, forwarding, password ----------------------------------------------------


class ChannelDndParams(ParamsModel):
    model_config = with_examples({"channel": "chat", "on": True})

    channel: Ident
    on: bool


class AllChannelsStateParams(ParamsModel):
    model_config = with_examples({"state": "Ready"})

    state: Literal["Ready", "NotReady"]


class ForwardParams(ParamsModel):
    model_config = with_examples({"destination": "5001"})

    destination: PhoneNumber


Password = Annotated[str, Field(min_length=1, max_length=256, repr=False)]


class ChangePasswordParams(ParamsModel):
    model_config = with_examples({"old_password": "old-secret", "new_password": "new-secret"})

    # Never logged, never echoed in errors (validation errors carry no input), never in a reply.
    old_password: Password
    new_password: Password
    first_login: bool = False
