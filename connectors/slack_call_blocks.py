"""Block Kit rendering of calls: the call card (the whole call as it stands), a line per change,
and the call's controls — Hold, Retrieve, the transfer menu — for its current state.

Buttons carry their target in ``value``: :data:`ACTION_DISPOSITION` ``{agent, call_id,
disposition}``, :data:`ACTION_HOLD` and :data:`ACTION_RETRIEVE` ``{agent, call_id}``; each option
of the transfer menu (:data:`ACTION_TRANSFER`, a static select) ``{agent, call_id, number}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from bridge.events import Event
from connectors.slack_blockkit import (
    SlackMessage,
    action_rows,
    button,
    context,
    escape,
    fields,
    header,
    named_fields,
    plain,
    section,
)

__all__ = [
    "ACTION_DISPOSITION",
    "ACTION_HOLD",
    "ACTION_RETRIEVE",
    "ACTION_TRANSFER",
    "call_controls",
    "render_call_card",
    "render_call_line",
]

ACTION_DISPOSITION = "gwsb_disposition"
ACTION_HOLD = "gwsb_call_hold"
ACTION_RETRIEVE = "gwsb_call_retrieve"
ACTION_TRANSFER = "gwsb_call_transfer"

_OPTION_TEXT_MAX = 75
_OPTION_VALUE_MAX = 150
_OPTIONS_MAX = 100


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return ""
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


_CALL_LINES = {
    "call.dialing": (":outbox_tray:", "Dialing"),
    "call.held": (":double_vertical_bar:", "On hold"),
    "call.retrieved": (":arrow_forward:", "Taken off hold"),
    "call.released": (":end:", "Call ended"),
    "call.participants_changed": (":busts_in_silhouette:", "Participants changed"),
    "call.data_changed": (":memo:", "Call data changed"),
    "call.dtmf_sent": (":1234:", "DTMF sent"),
    "call.recording_changed": (":red_circle:", "Recording"),
    "call.mute_changed": (":mute:", "Mute"),
    "call.monitoring_changed": (":eyes:", "Monitoring changed"),
    "call.disposition_set": (":label:", "Disposition set"),
    "call.error": (":warning:", "Call error"),
}


def _call_parties(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [("From", data.get("ani")), ("To", data.get("dnis")), ("Agent", data.get("agent"))]


def _call_context(data: Mapping[str, Any]) -> dict[str, Any]:
    return context([f"call `{escape(data.get('call_id'))}`", escape(data.get("call_type") or "")])


_CARD_HEADERS = {
    "Ringing": ":telephone_receiver: Incoming call from {who}",
    "Dialing": ":outbox_tray: Calling {who}",
    "Established": ":telephone_receiver: On a call with {who}",
    "Held": ":double_vertical_bar: On hold with {who}",
    "Released": ":end: Call with {who} ended",
}
_DISPOSABLE = frozenset({"Established", "Held", "Released"})  # GWS takes dispositions after release too


def _transfer_menu(agent: str, call_id: str, targets: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    options = []
    for name, number in targets[:_OPTIONS_MAX]:
        value = orjson.dumps({"agent": agent, "call_id": call_id, "number": number}).decode()
        if len(value) <= _OPTION_VALUE_MAX:  # Slack refuses the whole message otherwise
            options.append({"text": plain(name, _OPTION_TEXT_MAX), "value": value})
    if not options:
        return None
    return {
        "type": "static_select",
        "action_id": ACTION_TRANSFER,
        "placeholder": plain("Transfer to…"),
        "options": options,
        "confirm": {
            "title": plain("Transfer this call?"),
            "text": {"type": "mrkdwn", "text": "The caller is put through at once and the call leaves you."},
            "confirm": plain("Transfer"),
            "deny": plain("Cancel"),
        },
    }


def call_controls(
    data: Mapping[str, Any], transfer_targets: Sequence[tuple[str, str]] = ()
) -> list[dict[str, Any]]:
    """The call's buttons for its state: Hold and the transfer menu (``(name, number)`` targets) while
    Established, Retrieve while Held — each only when the call's capabilities (if given) offer it."""
    agent, call_id, state = data.get("agent"), data.get("call_id"), data.get("state")
    if not agent or not call_id:
        return []
    capabilities = set(data.get("capabilities") or ())

    def offered(operation: str) -> bool:
        return not capabilities or operation in capabilities

    target = {"agent": agent, "call_id": call_id}
    elements: list[dict[str, Any]] = []
    if state == "Established" and offered("Hold"):
        elements.append(button("Hold", ACTION_HOLD, target))
    if state == "Held" and offered("Retrieve"):
        elements.append(button("Retrieve", ACTION_RETRIEVE, target, style="primary"))
    if state == "Established" and transfer_targets and offered("SingleStepTransfer"):
        menu = _transfer_menu(str(agent), str(call_id), transfer_targets)
        if menu is not None:
            elements.append(menu)
    return action_rows(elements, f"call:{call_id}") if elements else []


def render_call_card(
    event: Event,
    *,
    dispositions: Sequence[str] = (),
    transfer_targets: Sequence[tuple[str, str]] | None = None,
) -> SlackMessage:
    """The whole call as it stands after ``event`` (any ``call.*``): the thread root's content.

    Ringing and dialing calls show the toast data; later states the case data, the call's
    controls (:func:`call_controls`; none when ``transfer_targets`` is None) and, when
    ``dispositions`` are given, the disposition buttons.
    """
    data = event.data
    state = str(data.get("state") or "")
    who = data.get("ani") or "unknown number"
    title = _CARD_HEADERS.get(state, ":telephone_receiver: Call with {who}").format(who=who)
    if state == "Released" and _duration(data.get("duration")):
        title += f" ({_duration(data.get('duration'))})"
    blocks = [header(title)]
    blocks += fields(_call_parties(data))
    if state in ("Ringing", "Dialing"):
        values, names = data.get("toast") or {}, data.get("toast_display_names") or {}
    else:
        values = data.get("case") or data.get("toast") or {}
        names = data.get("case_display_names") or data.get("toast_display_names") or {}
    blocks += fields(named_fields(values, names))
    if transfer_targets is not None:
        blocks += call_controls(data, transfer_targets)
    if dispositions and state in _DISPOSABLE and data.get("agent") and data.get("call_id"):
        buttons = [
            button(
                name,
                ACTION_DISPOSITION,
                {"agent": data["agent"], "call_id": data["call_id"], "disposition": name},
            )
            for name in dispositions
        ]
        blocks += action_rows(buttons, f"dispo:{data['call_id']}")
    blocks.append(_call_context(data))
    agent = data.get("agent")
    if state == "Ringing":
        summary = f"Incoming call from {who} to {agent}"
    elif state == "Established":
        summary = f"{agent} is on a call with {who}"
    else:
        summary = f"{agent}: call with {who}, {state.lower() or 'changed'}"
    return SlackMessage(summary, blocks)


def render_call_line(event: Event, transfer_targets: Sequence[tuple[str, str]] | None) -> SlackMessage:
    data = event.data
    emoji, label = _CALL_LINES.get(event.type, (":telephone_receiver:", event.type))
    detail = ""
    if event.type == "call.released":
        detail = _duration(data.get("duration"))
    elif event.type == "call.recording_changed":
        detail = escape(data.get("recording_state") or "")
    elif event.type == "call.disposition_set":
        detail = escape(data.get("disposition") or "")
    elif event.type == "call.mute_changed":
        detail = "on" if data.get("muted") else "off"
    elif event.type == "call.error":
        detail = escape(data.get("error_message") or data.get("message") or data.get("error") or "")
    text = f"{emoji} *{label}*" + (f" — {detail}" if detail else "")
    text += f"  ·  {escape(data.get('agent'))}"
    summary = f"{label}{' — ' + detail if detail else ''} ({data.get('agent')}, call {data.get('call_id')})"
    blocks = [section(text)]
    if transfer_targets is not None and event.type in ("call.held", "call.retrieved"):
        blocks += call_controls(data, transfer_targets)  # what the call offers now
    return SlackMessage(summary, [*blocks, _call_context(data)])
