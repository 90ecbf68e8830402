"""``call.*``: every call event carries the whole call (:class:`CallData`), plus what changed.

``call.error`` is the exception: GWS reports errors apart from the call, so
it carries only what identifies the call and the error (:class:`CallError`).
"""

from __future__ import annotations

from typing import Any, Literal

from bridge.event_data.base import DataPart, GwsEventData

__all__ = [
    "CallData",
    "CallDataChanged",
    "CallDialing",
    "CallDispositionSet",
    "CallDtmfSent",
    "CallError",
    "CallEstablished",
    "CallHeld",
    "CallMuteChanged",
    "CallRecordingChanged",
    "CallReleased",
    "CallRetrieved",
    "CallRinging",
    "DataChanges",
    "Participant",
    "ParticipantsChanged",
]

_CALL_SUBJECT = r"^call/.+$"


class Participant(DataPart):
    """One other party of a call, whichever spelling GWS used (``e164Number`` or ``E164digits``)."""

    number: str | None
    """The party's number as GWS shows it (``digits``)."""
    e164: str | None
    """The number in E.164 form, or ``number`` when GWS gave none."""
    formatted: str | None
    """The number formatted for display, or ``number`` when GWS gave none."""


class DataChanges(DataPart):
    """What changed in a ``userData`` map."""

    added: dict[str, Any]
    """Keys that are new, with their values."""
    changed: dict[str, Any]
    """Keys whose value changed, with the new values."""
    removed: list[str]
    """Keys that were deleted, sorted."""


class CallData(GwsEventData):
    """The call as it is now; a field the message did not carry keeps its last-known value."""

    subject_pattern = _CALL_SUBJECT

    call_id: str
    """The GWS call id (``call/<call_id>`` is the subject)."""
    call_uuid: str | None
    """The call's UUID across the contact center (``callUuid``)."""
    state: str | None
    """The call state as GWS spells it: ``Dialing``, ``Ringing``, ``Established``, ``Held``,
    ``Released``, …"""
    previous_state: str | None
    """The state before this event; ``null`` on the first sight of the call."""
    call_type: str | None
    """``Inbound``, ``Outbound``, ``Internal``, ``Consult``, … (``callType``)."""
    direction: Literal["inbound", "outbound"] | None
    """From ``callType``, else from the first state seen (Ringing: inbound, Dialing: outbound)."""
    ani: str | None
    """The calling number; GWS 8.5.2 sends none, so for inbound calls the first other party,
    for outbound calls the agent's own number."""
    dnis: str | None
    """The called number, derived the same way as ``ani``."""
    phone_number: str | None
    """The agent's device number."""
    device_id: str | None
    """The agent's device id."""
    parent_call_id: str | None
    """For a consult call: the call it was made from."""
    participants: list[Participant]
    """The other parties."""
    user_data: dict[str, Any]
    """The attached data (``userData``)."""
    toast: dict[str, Any]
    """The toast (screen-pop) fields, ``{key: value}``."""
    toast_display_names: dict[str, str]
    """Display names of the toast fields, ``{key: name}``."""
    case: dict[str, Any]
    """The case fields, ``{key: value}``."""
    case_display_names: dict[str, str]
    """Display names of the case fields, ``{key: name}``."""
    capabilities: list[str]
    """What the agent can do with the call now, sorted; empty once released."""
    duration: int | None
    """Seconds since the call started."""
    muted: bool | None
    """The agent's side is muted."""
    recording_state: str | None
    """``Recording``, ``Paused``, ``Stopped``, … (``recordingState``)."""
    supervisor_listening_in: bool | None
    """A supervisor listens in."""
    monitored_user_muted: bool | None
    """The monitored agent is muted (supervisor calls)."""
    monitoring: bool | None
    """The call is being monitored."""
    notification_type: str | None
    """The GWS ``notificationType`` of the message (``StatusChange``, ``AttachedDataChanged``, …);
    ``null`` for what state recovery derived, and for what the bridge reported from a command
    because GWS notifies nothing (a disposition on a released call)."""
    recovered: bool = False
    """Present, and ``true``, when the event was derived by state recovery after a reconnect."""


class CallDialing(CallData):
    state: Literal["Dialing"]


class CallRinging(CallData):
    state: Literal["Ringing"]


class CallEstablished(CallData):
    state: Literal["Established"]


class CallHeld(CallData):
    state: Literal["Held"]


class CallRetrieved(CallData):
    state: Literal["Established"]
    previous_state: Literal["Held"]


class CallReleased(CallData):
    state: Literal["Released"]


class ParticipantsChanged(CallData):
    joined: list[str]
    """Numbers that joined, sorted."""
    left: list[str]
    """Numbers that left, sorted."""


class CallDataChanged(CallData):
    data_changes: DataChanges
    """What changed in ``user_data``."""


class CallDispositionSet(CallData):
    disposition: Any
    """The disposition code's value, as attached (usually a string)."""
    disposition_key: str
    """The ``userData`` key it was attached under (``DispositionCode``, or the ``key`` the
    command named)."""


class CallDtmfSent(CallData):
    digits: str | None
    """The digits, when GWS says which."""


class CallRecordingChanged(CallData):
    recording_state: str
    """The new recording state."""
    previous_recording_state: str | None
    """The recording state before; ``null`` if it was never reported."""


class CallMuteChanged(CallData):
    muted: bool
    """The agent's side is muted now: the other parties cannot hear the agent."""
    previous_muted: bool
    """``muted`` before."""


class CallError(GwsEventData):
    """An asynchronous error GWS reported for an operation on a call."""

    subject_pattern = _CALL_SUBJECT

    call_id: str
    """The call the error is about."""
    call_uuid: str | None
    """The call's UUID, from the error or from what the bridge knew of the call."""
    state: str | None
    """The call's last-known state."""
    device_id: str | None
    """The device the operation was on."""
    error_message: str | None
    """GWS's error text (``Incorrect object state``, …)."""
    error_code: str | None
    """GWS's error code."""
