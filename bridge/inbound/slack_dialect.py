"""The Slack dialect: a verified request into what it asks for, and outcomes into Slack messages.

Pure (no IO, nothing of the receiver's): :meth:`SlackDialect.parse` decodes the signed body of
``/slack/commands`` and ``/slack/interactions`` (``application/x-www-form-urlencoded``, UTF-8,
within :mod:`bridge.commands.limits`) or ``/slack/events`` (JSON, :mod:`bridge.inbound.slack_events`)
into a :class:`SlackAsk` (an intent to run as the user's agent), a :class:`QueueAsk`, a
:class:`SlackAnswer` (answered at once, nothing runs), a ``Challenge``, a ``ThreadReply`` or
:class:`Retried` (Slack's retry of a command or a click). Refusals are :class:`Problem` (400, 415)
or :class:`CommandError` (422, naming the field). :func:`render_answer` is the HTTP answer (an
:class:`Answer`); :func:`render_outcome` and :func:`render_status` are the texts the user sees
afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson

from bridge.commands.limits import LIMITS, check_input
from bridge.config.slack import SlackInboundSettings
from bridge.inbound.http import FORM, InboundResponse, require_content_type
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.problems import Problem
from bridge.inbound.slack_commands import (
    SlackIntent,
    SlackUsageError,
    parse_agent_text,
    parse_block_action,
    parse_dispo_text,
)
from bridge.inbound.slack_events import Challenge, ThreadReply, parse_event_body

__all__ = [
    "Answer",
    "QueueAsk",
    "Retried",
    "SlackAnswer",
    "SlackAsk",
    "SlackDialect",
    "SlackOutcome",
    "SlackRequest",
    "ephemeral",
    "render_answer",
    "render_outcome",
    "render_status",
]


@dataclass(frozen=True)
class SlackAsk:
    """Run ``intent`` as ``user_id``'s agent; the outcome goes to ``response_url``.

    ``trigger_id`` identifies the gesture (Slack's retries repeat it; "" when absent);
    ``replace_original`` is None for a slash command (a new ephemeral message), False for a click.
    """

    intent: SlackIntent
    user_id: str
    response_url: str
    trigger_id: str
    replace_original: bool | None = None


@dataclass(frozen=True)
class QueueAsk:
    """``/queue [name]``: a queue's figures from the statistics snapshot (no GWS call)."""

    user_id: str
    text: str
    trigger_id: str


@dataclass(frozen=True)
class SlackAnswer:
    """Answered at once: ``message`` (None: an empty 200). ``trigger_id`` is None when not a gesture."""

    message: dict[str, Any] | None
    trigger_id: str | None = None


@dataclass(frozen=True)
class Retried:
    """Slack's retry (``X-Slack-Retry-Num``) of a command or a click: we had the first try, so it is
    acknowledged and never run twice (an event's retry is told apart by its ``event_id``)."""


SlackRequest = SlackAsk | QueueAsk | SlackAnswer | Challenge | ThreadReply | Retried


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a Slack request (always 200): ``message`` as JSON, or an empty body;
    ``no_retry`` asks Slack not to retry (``X-Slack-No-Retry: 1``)."""

    message: dict[str, Any] | None = None
    no_retry: bool = False


def render_answer(answer: Answer) -> InboundResponse:
    """``answer`` as Slack wants it (within its 3 s)."""
    headers = {"X-Slack-No-Retry": "1"} if answer.no_retry else {}
    if answer.message is None:
        return InboundResponse(200, b"", "text/plain", headers)
    return InboundResponse.json(200, answer.message, headers)


def ephemeral(text: str, *, replace_original: bool | None = None) -> dict[str, Any]:
    """A message only the user sees."""
    message: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if replace_original is not None:
        message["replace_original"] = replace_original
    return message


def decode_form(headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """The signed body as a form: 415 unless form-encoded UTF-8, 400 unless well-formed, 422 over limits."""
    require_content_type(headers.get("Content-Type"), FORM)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=LIMITS.max_entries,
        )
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8", kind="malformed-body") from None
    except ValueError:
        raise Problem(400, "the body is not form-encoded", kind="malformed-body") from None
    form = dict(pairs)
    check_input(form, what="the form")
    return form


class SlackDialect:
    """Parses the three Slack routes for one ``[inbound.slack]`` configuration."""

    def __init__(self, settings: SlackInboundSettings) -> None:
        self._settings = settings

    def allowed_url(self, url: str) -> bool:
        """True when outcomes may be posted to ``url`` (``response_url_prefixes``)."""
        return any(url.startswith(prefix) for prefix in self._settings.response_url_prefixes)

    def parse(self, route: str, headers: Mapping[str, str], body: bytes) -> SlackRequest:
        """What the verified ``body`` of ``/slack/<route>`` asks (route: commands, interactions, events).

        A retry is parsed like the first try (a malformed one is refused alike), then :class:`Retried`."""
        if route == "events":
            require_content_type(headers.get("Content-Type"))
            parsed = parse_event_body(body)
            return parsed if isinstance(parsed, (Challenge, ThreadReply)) else SlackAnswer(None)
        form = decode_form(headers, body)
        asked = self._command(form) if route == "commands" else self._interaction(form)
        return Retried() if headers.get("X-Slack-Retry-Num") else asked

    def _command(self, form: dict[str, str]) -> SlackRequest:
        name, text, trigger = form.get("command", ""), form.get("text", ""), form.get("trigger_id", "")
        user_id, settings = form.get("user_id", ""), self._settings
        try:
            if name == settings.agent_command:
                intent = parse_agent_text(text)
            elif name == settings.dispo_command:
                intent = parse_dispo_text(text)
            elif name == settings.queue_command:
                return QueueAsk(user_id, text, trigger)
            else:
                return SlackAnswer(ephemeral(f"Unknown command {name[:40]}."), trigger)
        except SlackUsageError as usage:
            return SlackAnswer(ephemeral(str(usage)), trigger)
        return SlackAsk(intent, user_id, form.get("response_url", ""), trigger)

    def _interaction(self, form: dict[str, str]) -> SlackRequest:
        try:
            payload = orjson.loads(form.get("payload", ""))
        except orjson.JSONDecodeError:
            raise Problem(400, "payload is not JSON", kind="bad-request") from None
        if not isinstance(payload, dict):
            raise Problem(400, "payload is not an object", kind="bad-request")
        check_input(payload, loc=["payload"], what="the payload")
        intent = parse_block_action(payload)
        response_url = str(payload.get("response_url") or "")
        if intent is None or not self.allowed_url(response_url):
            return SlackAnswer(None)  # not one of our buttons: nothing to do
        user = payload.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        trigger = str(payload.get("trigger_id") or "")
        return SlackAsk(intent, user_id, response_url, trigger, replace_original=False)


@dataclass(frozen=True)
class SlackOutcome:
    """How running an intent ended: a command ``status``, or ``refused`` / ``unreachable`` with ``detail``."""

    agent: str
    summary: str
    status: CommandStatus | Literal["refused", "unreachable"]
    detail: str = ""
    command_id: str = ""


def render_outcome(outcome: SlackOutcome) -> str:
    """The text the user sees once the command ran (or why it did not)."""
    agent, summary, status, detail = outcome.agent, outcome.summary, outcome.status, outcome.detail
    if status == "refused":
        return f":x: {agent}: {summary} refused: {detail}"
    if status == "unreachable":
        return f":x: {agent}: GWS did not answer: {detail}"
    if status is CommandStatus.SUCCEEDED:
        return f":white_check_mark: {agent}: {summary} done."
    if status is CommandStatus.FAILED:
        return f":x: {agent}: {summary} failed: {detail or 'GWS reported a failure'}"
    return f":hourglass: {agent}: {summary} accepted by GWS (command {outcome.command_id})."


def render_accepted(agent: str, intent: SlackIntent) -> str:
    """The at-once answer to a slash command that runs in the background."""
    return f":hourglass_flowing_sand: {agent}: {intent.summary}…"


def render_status(agent: str, devices: list[dict[str, Any]]) -> str:
    """``/agent status``: the agent's voice device as GWS reads it."""
    if not devices:
        return f":white_circle: {agent}: no voice device (not logged in to a place)."
    device = devices[0]
    user_state = device.get("userState") or {}
    state = str(user_state.get("state") or "unknown")
    label = {"NotReady": "Not Ready", "LoggedOut": "Logged out"}.get(state, state)
    reason = user_state.get("displayName") or user_state.get("reason") or user_state.get("workMode")
    if reason and state == "NotReady":
        label += f" ({reason})"
    dnd = "on" if device.get("doNotDisturb") == "On" else "off"
    return f":bust_in_silhouette: {agent}: *{label}*, DND {dnd}, phone {device.get('phoneNumber') or '—'}"
