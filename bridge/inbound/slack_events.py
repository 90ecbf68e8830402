"""Slack's Events API (``POST /slack/events``): the envelope, and a person's reply in a thread.

The Slack connector posts a chat's events in one thread per channel and remembers the way back
from the thread's root to the interaction and who holds it (:class:`connectors.slack_state.ThreadBook`).
A ``message`` event in such a thread, by a person (no ``bot_id``, no ``subtype``: edits, deletions,
broadcasts and the bridge's own posts are ignored, so nothing loops), becomes ``chat.send_message``
as the chat's agent — through the receiver's executor, as ``/v1/commands`` runs it.

Pure, no IO: :func:`parse_event_body` (the envelope into a :class:`Challenge`, a
:class:`ThreadReply` or :class:`Ignored`) and :func:`plain_text`. What a reply then does is
:mod:`bridge.inbound.slack_chat`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.errors import CommandError
from bridge.inbound.json_dialect import parse_json_body, validation_errors

__all__ = ["Challenge", "Ignored", "ThreadReply", "parse_event_body", "plain_text"]

_TS = r"^\d{1,12}\.\d{1,8}$"
_SLACK_ID = r"^[A-Z0-9]{1,40}$"


class _MessageEvent(BaseModel):
    """The inner ``event`` of an ``event_callback`` (the fields we read; others are kept aside)."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: str = Field(max_length=64)
    user: str | None = Field(default=None, pattern=_SLACK_ID)
    text: str | None = None
    ts: str | None = Field(default=None, pattern=_TS)
    thread_ts: str | None = Field(default=None, pattern=_TS)
    channel: str | None = Field(default=None, pattern=_SLACK_ID)
    bot_id: str | None = None
    subtype: str | None = None


class _Envelope(BaseModel):
    """The outer payload: ``url_verification`` or ``event_callback`` (``app_rate_limited``…: ignored)."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: str = Field(max_length=64)
    token: str | None = None  # the deprecated verification token: the signature is what we trust
    team_id: str | None = None
    api_app_id: str | None = None
    challenge: str | None = Field(default=None, min_length=1, max_length=200)
    event: _MessageEvent | None = None
    event_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,64}$")
    event_time: int | None = None


@dataclass(frozen=True)
class Challenge:
    """A ``url_verification``: answer with ``value``."""

    value: str


@dataclass(frozen=True)
class Ignored:
    """Nothing to do (``reason`` is logged at debug level)."""

    reason: str


@dataclass(frozen=True)
class ThreadReply:
    """A person's reply in a thread: ``text`` by Slack user ``user`` under root ``thread_ts``."""

    event_id: str
    user: str
    channel: str
    thread_ts: str
    ts: str
    text: str


def _missing(field: str) -> CommandError:
    return CommandError(
        f"the Slack event has no {field}",
        errors=[{"loc": [field], "msg": "Field required", "type": "missing"}],
    )


def parse_event_body(body: bytes) -> Challenge | ThreadReply | Ignored:
    """The meaning of an Events API body (already verified); no IO.

    Raises :class:`Problem` 400 when it is not a JSON object, :class:`CommandError` 422 naming
    the field when the envelope is not Slack's (``type``, ``challenge``, ``event_id``, ``event.*``).
    """
    document = parse_json_body(body)
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as exc:
        raise CommandError("invalid Slack event", errors=validation_errors(exc)) from exc
    if envelope.type == "url_verification":
        if envelope.challenge is None:
            raise _missing("challenge")
        return Challenge(envelope.challenge)
    if envelope.type != "event_callback":
        return Ignored(f"envelope type {envelope.type}")
    if envelope.event_id is None:
        raise _missing("event_id")
    event = envelope.event
    if event is None:
        raise _missing("event")
    if event.type != "message":
        return Ignored(f"event type {event.type}")
    if event.subtype is not None:  # edits, deletions, joins, broadcasts, bot_message…
        return Ignored(f"message subtype {event.subtype}")
    if event.bot_id is not None:  # a bot's post — the bridge's own included: no loops
        return Ignored("a bot's message")
    if event.thread_ts is None or event.thread_ts == event.ts:
        return Ignored("not a thread reply")
    if event.user is None or event.channel is None or event.ts is None:
        return Ignored("no user, channel or ts")
    text = plain_text(event.text or "")
    if not text.strip():
        return Ignored("no text")
    return ThreadReply(envelope.event_id, event.user, event.channel, event.thread_ts, event.ts, text)


_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_MENTION = re.compile(r"<[@#!][^>|]*(?:\|([^>]*))?>")


def plain_text(text: str) -> str:
    """Slack message text as a customer should read it: links as their text, entities unescaped."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _MENTION.sub(lambda m: m.group(1) or "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
