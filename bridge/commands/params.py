"""Parameter schemas: one pydantic model per action's ``params``, validated at the boundary.

Every schema forbids unknown fields, strips whitespace and is strict: a boolean is
``true`` or ``false`` (not ``"yes"``, ``1`` or ``"true"``), an integer is not a float
nor a string, a string is not a number. Ids that end up in GWS URL paths are
constrained to one safe path segment; ``user_data`` keeps to the input limits
(:mod:`bridge.commands.limits`) whichever dialect built the command.
"""

from __future__ import annotations

from typing import Annotated, Any

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


class NoParams(_Params):
    pass


class NotReadyParams(_Params):
    reason: Text | None = None
    work_mode: Text | None = None


class AgentStateParams(_Params):
    operation: Text  # an agent-state operation name, or its display name or reason code
    not_ready: bool = False  # only Not Ready states match (a reason code named by a CTI widget)


class DndParams(_Params):
    on: bool


class ChannelStateParams(_Params):
    channel: Ident
    state: Text


class CallParams(_Params):
    call_id: Ident


class DispositionParams(_Params):
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
    destination: PhoneNumber
    user_data: UserData | None = None


class DtmfParams(CallParams):
    digits: Annotated[str, Field(pattern=r"^[0-9*#]{1,64}$")]


class CallDataParams(CallParams):
    user_data: UserData


class DeleteDataParams(CallParams):
    key: Text | None = None


class CallDestinationParams(CallParams):
    destination: PhoneNumber
    user_data: UserData | None = None


class CompleteParams(CallParams):
    consult_call_id: Ident | None = None


class InteractionParams(_Params):
    interaction_id: Ident


class InteractionAcceptParams(InteractionParams):
    nickname: Text | None = None


class PlaceInQueueParams(InteractionParams):
    queue: Text


class PlaceInWorkbinParams(InteractionParams):
    workbin: Text


class InteractionTransferParams(InteractionParams):
    user_id: Ident


class InteractionDataParams(InteractionParams):
    user_data: UserData


class WorkbinPullParams(_Params):
    workbin_id: Ident
    interaction_id: Ident


class SessionStartParams(_Params):
    channels: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]], Field(min_length=1)]
    place: Text | None = None
    login_code: Text | None = None
    queue: Text | None = None
