"""Block Kit rendering of events for Slack: pure functions, one per event family.

Messages are written for a phone first: a short header line, at most a few
two-column fields (Slack stacks them on narrow screens), the identifiers in a
small context line, and buttons in rows of at most five. The ``text`` of every
message is a complete one-line summary: it is what notifications, screen
readers and clients without Block Kit show. Calls are rendered by
:mod:`connectors.slack_call_blocks`, the blocks themselves built by
:mod:`connectors.slack_blockkit`.

Buttons carry their target in ``value`` (compact JSON) and are recognised by
``action_id`` when Slack posts the click back to ``/slack/interactions``
(``bridge/inbound/slack.py``): :data:`ACTION_READY` and :data:`ACTION_NOT_READY`
``{agent}`` here, the call's own in :mod:`connectors.slack_call_blocks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.events import Event
from connectors.slack_blockkit import (
    DANGER,
    GOOD,
    WARNING,
    SlackMessage,
    action_rows,
    alert,
    button,
    context,
    escape,
    fields,
    header,
    section,
)
from connectors.slack_call_blocks import (
    ACTION_DISPOSITION,
    ACTION_HOLD,
    ACTION_RETRIEVE,
    ACTION_TRANSFER,
    call_controls,
    render_call_card,
    render_call_line,
)

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

ACTION_READY = "gwsb_agent_ready"
ACTION_NOT_READY = "gwsb_agent_not_ready"


def thread_subject(event: Event) -> str | None:
    """The thread an event belongs to (``call/<id>``, ``interaction/<id>``), or None for a standalone post."""
    if event.type.startswith("call.") and event.data.get("call_id"):
        return f"call/{event.data['call_id']}"
    if event.type.startswith("interaction.") or event.type == "chat.message":
        interaction = event.data.get("interaction_id")
        return f"interaction/{interaction}" if interaction else None
    return None


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
    blocks = [section(line)]
    if buttons and agent and state in {"Ready", "NotReady"}:
        row = [
            button("Ready", ACTION_READY, {"agent": agent}, style="primary"),
            button("Not Ready", ACTION_NOT_READY, {"agent": agent}),
        ]
        blocks += action_rows(row, f"state:{agent}")
    previous = data.get("previous_state")
    if previous:
        blocks.append(context([f"was {escape(_STATE_LABEL.get(previous, previous))}"]))
    summary = f"{agent} is {label}" + (f" ({reason})" if reason and state != "Ready" else "")
    return SlackMessage(summary, blocks)


def _render_agent_line(event: Event) -> SlackMessage:
    data = event.data
    agent = escape(data.get("agent"))
    if event.type == "agent.dnd_changed":
        on = bool(data.get("dnd"))
        text = f"{':no_bell:' if on else ':bell:'} *{agent}* do-not-disturb *{'on' if on else 'off'}*"
        return SlackMessage(f"{data.get('agent')} DND {'on' if on else 'off'}", [section(text)])
    state = data.get("state") or data.get("device_state") or data.get("forwarding") or ""
    label = event.type.split(".", 1)[1].replace("_", " ")
    text = f":bust_in_silhouette: *{agent}* {escape(label)}" + (f": *{escape(state)}*" if state else "")
    return SlackMessage(f"{data.get('agent')} {label} {state}".strip(), [section(text)])


# -- interactions ------------------------------------------------------------------------------

_MEDIA = {"email": (":envelope:", "e-mail"), "chat": (":speech_balloon:", "chat")}


def _render_invited(event: Event) -> SlackMessage:
    data = event.data
    emoji, media = _MEDIA.get(str(data.get("channel")), (":inbox_tray:", str(data.get("channel") or "item")))
    who = data.get("from_address") or data.get("nickname") or "a customer"
    blocks = [header(f"{emoji} New {media} from {who}")]
    blocks += fields(
        [
            ("Subject", data.get("subject")),
            ("Queue", data.get("queue")),
            ("Agent", data.get("agent")),
            ("From", data.get("from_address")),
        ]
    )
    blocks.append(context([f"interaction `{escape(data.get('interaction_id'))}`"]))
    return SlackMessage(f"New {media} from {who} offered to {data.get('agent')}", blocks)


def _render_interaction_line(event: Event) -> SlackMessage:
    data = event.data
    if event.type == "chat.message":
        who = data.get("nick_name") or data.get("nickname") or data.get("user_type") or "chat"
        said = data.get("text") or str(data.get("entry_type") or "").replace("_", " ")
        return SlackMessage(f"{who}: {said}", [section(f":speech_balloon: *{escape(who)}*: {escape(said)}")])
    label = event.type.split(".", 1)[1].replace("_", " ").capitalize()
    text = f":inbox_tray: *{escape(label)}*  ·  {escape(data.get('agent'))}"
    summary = f"{label} ({data.get('agent')}, interaction {data.get('interaction_id')})"
    return SlackMessage(summary, [section(text)])


# -- alerts ------------------------------------------------------------------------------------


def _render_service(event: Event) -> SlackMessage:
    data = event.data
    name = data.get("service_name") or data.get("service_type") or data.get("service_id")
    kind = data.get("service_type") or "GWS"
    up = data.get("available")
    if up is None:
        up = data.get("state") == "Active"
    if up:
        return alert(
            GOOD,
            f":white_check_mark: {kind} service {name} is back",
            [f"State *{escape(data.get('state'))}*, was {escape(data.get('previous_state') or '—')}"],
            f"{kind} service {name} is back ({data.get('state')})",
        )
    return alert(
        DANGER,
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
        return alert(
            WARNING,
            f":no_entry: Destination {destination} disabled",
            [
                f"Reason: {escape(reason)}" if reason else "",
                "Events are kept; `gws-bridge destinations enable`",
            ],
            f"Destination {destination} was disabled: {reason}",
        )
    what = data.get("event_type") or data.get("type") or "an event"
    return alert(
        WARNING,
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
    return SlackMessage(f"{event.type} {event.subject}", [section(text)])


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
        return render_call_line(event, transfer_targets)
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
