"""Block Kit rendering of events for Slack: pure functions, one per event family.

Messages are written for a phone first: a short header line, at most a few
two-column fields (Slack stacks them on narrow screens), the identifiers in a
small context line, and buttons in rows of at most five. The ``text`` of every
message is a complete one-line summary: it is what notifications, screen
readers and clients without Block Kit show.

Buttons carry their target in ``value`` (compact JSON) and are recognised by
``action_id`` when Slack posts the click back to ``/slack/interactions``
(``bridge/inbound/slack.py``): :data:`ACTION_DISPOSITION` ``{agent, call_id,
disposition}``, :data:`ACTION_READY` and :data:`ACTION_NOT_READY` ``{agent}``,
:data:`ACTION_HOLD` and :data:`ACTION_RETRIEVE` ``{agent, call_id}``; the transfer
menu (:data:`ACTION_TRANSFER`, a static select) carries ``{agent, call_id, number}``
in each option's value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bridge.events import Event

__all__ = [
    "ACTION_DISPOSITION",
    "ACTION_HOLD",
    "ACTION_NOT_READY",
    "ACTION_READY",
    "ACTION_RETRIEVE",
    "ACTION_TRANSFER",
    "SlackMessage",
    "call_controls",
    "escape",
    "render_call_card",
    "render_event",
    "thread_subject",
]

ACTION_DISPOSITION = "gwsb_disposition"
ACTION_READY = "gwsb_agent_ready"
ACTION_NOT_READY = "gwsb_agent_not_ready"
ACTION_HOLD = "gwsb_call_hold"
ACTION_RETRIEVE = "gwsb_call_retrieve"
ACTION_TRANSFER = "gwsb_call_transfer"

# Slack's limits (Block Kit reference): header 150, section text 3000, field 2000, 10 fields per
# section, button text 75, button value 2000, 25 elements per actions block, 50 blocks per message.
_HEADER_MAX = 150
_FIELD_MAX = 2000
_SECTION_MAX = 3000
_FIELDS_PER_SECTION = 10
_BUTTON_TEXT_MAX = 75
_BUTTON_VALUE_MAX = 2000
_BUTTONS_PER_ROW = 5
_OPTION_TEXT_MAX = 75
_OPTION_VALUE_MAX = 150
_OPTIONS_MAX = 100
_MAX_DATA_FIELDS = 8  # toast / case fields shown; more would not fit a phone screen

_DANGER = "#E01E5A"
_WARNING = "#ECB22E"
_GOOD = "#2EB67D"


@dataclass(frozen=True)
class SlackMessage:
    """A rendered message: the summary ``text``, ``blocks``, and (alerts) coloured ``attachments``."""

    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The ``chat.postMessage`` / incoming-webhook body fields (no channel, no thread)."""
        body: dict[str, Any] = {"text": self.text, "blocks": self.blocks}
        if self.attachments:
            body["attachments"] = self.attachments
        return body


def escape(value: Any) -> str:
    """``value`` as Slack mrkdwn-safe text (``&``, ``<``, ``>`` escaped as Slack requires)."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, _HEADER_MAX), "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SECTION_MAX)}}


def _context(parts: Iterable[str]) -> dict[str, Any]:
    text = "  ·  ".join(p for p in parts if p)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text or " ", _SECTION_MAX)}]}


def _fields(pairs: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Sections of two-column fields (``*label*\\nvalue``), skipping empty values."""
    items = [
        {"type": "mrkdwn", "text": _cut(f"*{escape(label)}*\n{escape(value)}", _FIELD_MAX)}
        for label, value in pairs
        if value not in (None, "", [], {})
    ]
    return [
        {"type": "section", "fields": items[i : i + _FIELDS_PER_SECTION]}
        for i in range(0, len(items), _FIELDS_PER_SECTION)
    ]


def _button(text: str, action_id: str, value: Mapping[str, Any], style: str | None = None) -> dict[str, Any]:
    encoded = orjson.dumps(dict(value)).decode()
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": _cut(text, _BUTTON_TEXT_MAX), "emoji": True},
        "action_id": action_id,
        "value": encoded[:_BUTTON_VALUE_MAX],
    }
    if style is not None:
        button["style"] = style
    return button


def _actions(buttons: list[dict[str, Any]], block_id: str) -> list[dict[str, Any]]:
    # Distinct action_ids per block are required; rows of five stay tappable on a phone.
    rows = []
    for row, start in enumerate(range(0, len(buttons), _BUTTONS_PER_ROW)):
        chunk = buttons[start : start + _BUTTONS_PER_ROW]
        for index, button in enumerate(chunk):
            button["action_id"] = f"{button['action_id']}:{start + index}"
        rows.append({"type": "actions", "block_id": f"{block_id}:{row}", "elements": chunk})
    return rows


def _named(values: Mapping[str, Any], names: Mapping[str, Any]) -> list[tuple[str, Any]]:
    pairs = [(str(names.get(key) or key), value) for key, value in values.items()]
    return pairs[:_MAX_DATA_FIELDS]


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return ""
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


def thread_subject(event: Event) -> str | None:
    """The thread an event belongs to (``call/<id>``, ``interaction/<id>``), or None for a standalone post."""
    if event.type.startswith("call.") and event.data.get("call_id"):
        return f"call/{event.data['call_id']}"
    if event.type.startswith("interaction.") or event.type == "chat.message":
        interaction = event.data.get("interaction_id")
        return f"interaction/{interaction}" if interaction else None
    return None


# -- calls -------------------------------------------------------------------------------------


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
    return _context([f"call `{escape(data.get('call_id'))}`", escape(data.get("call_type") or "")])


_CARD_HEADERS = {
    "Ringing": ":telephone_receiver: Incoming call from {who}",
    "Dialing": ":outbox_tray: Calling {who}",
    "Established": ":telephone_receiver: On a call with {who}",
    "Held": ":double_vertical_bar: On hold with {who}",
    "Released": ":end: Call with {who} ended",
}
_DISPOSABLE = frozenset({"Established", "Held", "Released"})  # GWS takes dispositions after release too


def _plain(text: str, limit: int = _BUTTON_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _transfer_menu(agent: str, call_id: str, targets: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    options = []
    for name, number in targets[:_OPTIONS_MAX]:
        value = orjson.dumps({"agent": agent, "call_id": call_id, "number": number}).decode()
        if len(value) <= _OPTION_VALUE_MAX:  # Slack refuses the whole message otherwise
            options.append({"text": _plain(name, _OPTION_TEXT_MAX), "value": value})
    if not options:
        return None
    return {
        "type": "static_select",
        "action_id": ACTION_TRANSFER,
        "placeholder": _plain("Transfer to…"),
        "options": options,
        "confirm": {
            "title": _plain("Transfer this call?"),
            "text": {"type": "mrkdwn", "text": "The caller is put through at once and the call leaves you."},
            "confirm": _plain("Transfer"),
            "deny": _plain("Cancel"),
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
        elements.append(_button("Hold", ACTION_HOLD, target))
    if state == "Held" and offered("Retrieve"):
        elements.append(_button("Retrieve", ACTION_RETRIEVE, target, style="primary"))
    if state == "Established" and transfer_targets and offered("SingleStepTransfer"):
        menu = _transfer_menu(str(agent), str(call_id), transfer_targets)
        if menu is not None:
            elements.append(menu)
    return _actions(elements, f"call:{call_id}") if elements else []


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
    header = _CARD_HEADERS.get(state, ":telephone_receiver: Call with {who}").format(who=who)
    if state == "Released" and _duration(data.get("duration")):
        header += f" ({_duration(data.get('duration'))})"
    blocks = [_header(header)]
    blocks += _fields(_call_parties(data))
    if state in ("Ringing", "Dialing"):
        values, names = data.get("toast") or {}, data.get("toast_display_names") or {}
    else:
        values = data.get("case") or data.get("toast") or {}
        names = data.get("case_display_names") or data.get("toast_display_names") or {}
    blocks += _fields(_named(values, names))
    if transfer_targets is not None:
        blocks += call_controls(data, transfer_targets)
    if dispositions and state in _DISPOSABLE and data.get("agent") and data.get("call_id"):
        buttons = [
            _button(
                name,
                ACTION_DISPOSITION,
                {"agent": data["agent"], "call_id": data["call_id"], "disposition": name},
            )
            for name in dispositions
        ]
        blocks += _actions(buttons, f"dispo:{data['call_id']}")
    blocks.append(_call_context(data))
    agent = data.get("agent")
    if state == "Ringing":
        summary = f"Incoming call from {who} to {agent}"
    elif state == "Established":
        summary = f"{agent} is on a call with {who}"
    else:
        summary = f"{agent}: call with {who}, {state.lower() or 'changed'}"
    return SlackMessage(summary, blocks)


def _render_call_line(event: Event, transfer_targets: Sequence[tuple[str, str]] | None) -> SlackMessage:
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
    blocks = [_section(text)]
    if transfer_targets is not None and event.type in ("call.held", "call.retrieved"):
        blocks += call_controls(data, transfer_targets)  # what the call offers now
    return SlackMessage(summary, [*blocks, _call_context(data)])


# -- agents ------------------------------------------------------------------------------------

_STATE_EMOJI = {"Ready": ":large_green_circle:", "NotReady": ":red_circle:", "LoggedOut": ":white_circle:"}
_STATE_LABEL = {"Ready": "Ready", "NotReady": "Not Ready", "LoggedOut": "Logged out"}


def _render_agent_state(event: Event, buttons: bool) -> SlackMessage:
    data = event.data
    agent = data.get("agent")
    state = str(data.get("state") or "")
    label = _STATE_LABEL.get(state, state or "unknown")
    reason = data.get("display_name") or data.get("reason") or data.get("work_mode")
    line = f"{_STATE_EMOJI.get(state, ':large_blue_circle:')} *{escape(agent)}* is *{escape(label)}*"
    if reason and state != "Ready":
        line += f" — {escape(reason)}"
    blocks = [_section(line)]
    if buttons and agent and state in {"Ready", "NotReady"}:
        row = [
            _button("Ready", ACTION_READY, {"agent": agent}, style="primary"),
            _button("Not Ready", ACTION_NOT_READY, {"agent": agent}),
        ]
        blocks += _actions(row, f"state:{agent}")
    previous = data.get("previous_state")
    if previous:
        blocks.append(_context([f"was {escape(_STATE_LABEL.get(previous, previous))}"]))
    summary = f"{agent} is {label}" + (f" ({reason})" if reason and state != "Ready" else "")
    return SlackMessage(summary, blocks)


def _render_agent_line(event: Event) -> SlackMessage:
    data = event.data
    agent = escape(data.get("agent"))
    if event.type == "agent.dnd_changed":
        on = bool(data.get("dnd"))
        text = f"{':no_bell:' if on else ':bell:'} *{agent}* do-not-disturb *{'on' if on else 'off'}*"
        return SlackMessage(f"{data.get('agent')} DND {'on' if on else 'off'}", [_section(text)])
    state = data.get("state") or data.get("device_state") or data.get("forwarding") or ""
    label = event.type.split(".", 1)[1].replace("_", " ")
    text = f":bust_in_silhouette: *{agent}* {escape(label)}" + (f": *{escape(state)}*" if state else "")
    return SlackMessage(f"{data.get('agent')} {label} {state}".strip(), [_section(text)])


# -- interactions ------------------------------------------------------------------------------

_MEDIA = {"email": (":envelope:", "e-mail"), "chat": (":speech_balloon:", "chat")}


def _render_invited(event: Event) -> SlackMessage:
    data = event.data
    emoji, media = _MEDIA.get(str(data.get("channel")), (":inbox_tray:", str(data.get("channel") or "item")))
    who = data.get("from_address") or data.get("nickname") or "a customer"
    blocks = [_header(f"{emoji} New {media} from {who}")]
    blocks += _fields(
        [
            ("Subject", data.get("subject")),
            ("Queue", data.get("queue")),
            ("Agent", data.get("agent")),
            ("From", data.get("from_address")),
        ]
    )
    blocks.append(_context([f"interaction `{escape(data.get('interaction_id'))}`"]))
    return SlackMessage(f"New {media} from {who} offered to {data.get('agent')}", blocks)


def _render_interaction_line(event: Event) -> SlackMessage:
    data = event.data
    if event.type == "chat.message":
        who = data.get("nick_name") or data.get("nickname") or data.get("user_type") or "chat"
        said = data.get("text") or str(data.get("entry_type") or "").replace("_", " ")
        return SlackMessage(f"{who}: {said}", [_section(f":speech_balloon: *{escape(who)}*: {escape(said)}")])
    label = event.type.split(".", 1)[1].replace("_", " ").capitalize()
    text = f":inbox_tray: *{escape(label)}*  ·  {escape(data.get('agent'))}"
    summary = f"{label} ({data.get('agent')}, interaction {data.get('interaction_id')})"
    return SlackMessage(summary, [_section(text)])


# -- alerts ------------------------------------------------------------------------------------


def _alert(color: str, header: str, lines: list[str], summary: str) -> SlackMessage:
    blocks = [_header(header)] + [_section(line) for line in lines if line]
    return SlackMessage(summary, [], [{"color": color, "blocks": blocks, "fallback": summary}])


def _render_service(event: Event) -> SlackMessage:
    data = event.data
    name = data.get("service_name") or data.get("service_type") or data.get("service_id")
    kind = data.get("service_type") or "GWS"
    up = data.get("available")
    if up is None:
        up = data.get("state") == "Active"
    if up:
        return _alert(
            _GOOD,
            f":white_check_mark: {kind} service {name} is back",
            [f"State *{escape(data.get('state'))}*, was {escape(data.get('previous_state') or '—')}"],
            f"{kind} service {name} is back ({data.get('state')})",
        )
    return _alert(
        _DANGER,
        f":rotating_light: {kind} service {name} is DOWN",
        [
            f"State *{escape(data.get('state'))}*, was {escape(data.get('previous_state') or '—')}",
            f"Reported by {escape(data.get('agent'))}'s session",
        ],
        f"ALERT: {kind} service {name} is down ({data.get('state')})",
    )


def _render_delivery(event: Event) -> SlackMessage:
    data = event.data
    destination = data.get("destination") or "?"
    reason = data.get("reason") or ""
    if event.type == "destination.disabled":
        return _alert(
            _WARNING,
            f":no_entry: Destination {destination} disabled",
            [
                f"Reason: {escape(reason)}" if reason else "",
                "Events are kept; `gws-bridge destinations enable`",
            ],
            f"Destination {destination} was disabled: {reason}",
        )
    what = data.get("event_type") or data.get("type") or "an event"
    return _alert(
        _WARNING,
        f":skull: Delivery to {destination} dead-lettered",
        [
            f"{escape(what)} `{escape(data.get('event_id') or '')}`",
            f"Reason: {escape(reason)}" if reason else "",
        ],
        f"An event ({what}) to {destination} was dead-lettered: {reason}",
    )


def _render_fallback(event: Event) -> SlackMessage:
    agent = event.data.get("agent")
    text = f":information_source: *{escape(event.type)}*  ·  {escape(event.subject)}"
    if agent:
        text += f"  ·  {escape(agent)}"
    return SlackMessage(f"{event.type} {event.subject}", [_section(text)])


def render_event(
    event: Event,
    *,
    dispositions: Sequence[str] = (),
    buttons: bool = True,
    transfer_targets: Sequence[tuple[str, str]] | None = None,
) -> SlackMessage:
    """The Slack message for ``event``.

    ``dispositions`` are the disposition buttons under an established call
    (none when empty); ``buttons`` adds Ready / Not Ready under agent-state
    messages; ``transfer_targets`` (not None) adds the call controls — Hold,
    Retrieve, the transfer menu — to the call card and to the held / retrieved
    lines. Never raises for a well-formed event: unknown types get a one-line
    fallback.
    """
    kind = event.type
    if kind in ("call.ringing", "call.established"):
        return render_call_card(event, dispositions=dispositions, transfer_targets=transfer_targets)
    if kind.startswith("call."):
        return _render_call_line(event, transfer_targets)
    if kind == "agent.state_changed":
        return _render_agent_state(event, buttons)
    if kind.startswith(("agent.", "device.", "channel.")):
        return _render_agent_line(event)
    if kind == "interaction.invited":
        return _render_invited(event)
    if kind.startswith("interaction.") or kind == "chat.message":
        return _render_interaction_line(event)
    if kind == "service.state_changed":
        return _render_service(event)
    if kind in {"destination.disabled", "delivery.dead_lettered"}:
        return _render_delivery(event)
    return _render_fallback(event)
