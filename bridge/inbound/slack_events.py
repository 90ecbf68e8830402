"""Slack's Events API (``POST /slack/events``): a reply in a chat's thread is sent to the customer.

The Slack connector posts a chat's events in one thread per channel and remembers the way back
from the thread's root to the interaction and who holds it (:class:`connectors.slack_state.ThreadBook`).
A ``message`` event in such a thread, by a person (no ``bot_id``, no ``subtype``: edits, deletions,
broadcasts and the bridge's own posts are ignored, so nothing loops), becomes ``chat.send_message``
as the chat's agent — through the receiver's executor, as ``/v1/commands`` runs it.

Pure here: :func:`parse_event_body` (the envelope into a :class:`Challenge`, a :class:`ThreadReply`
or :class:`Ignored`) and :func:`plain_text`. The shell: :class:`ChatReplies` (thread lookup,
authorization, the command, an ephemeral refusal through ``chat.postEphemeral``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.commands import Dialect, build_command
from bridge.config.keys import SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.errors import CommandError, ConfigError
from bridge.inbound.json_dialect import parse_json_body, validation_errors
from bridge.inbound.problems import Problem
from bridge.inbound.slack_commands import SLACK_ACTIONS
from connectors.slack_options import SlackOptions
from connectors.slack_state import ThreadBook

if TYPE_CHECKING:
    from bridge.config import Settings
    from bridge.inbound.executor import CommandExecutor

__all__ = [
    "Challenge",
    "ChatReplies",
    "Ignored",
    "SlackChannel",
    "ThreadReply",
    "parse_event_body",
    "plain_text",
    "slack_channels",
]

logger = logging.getLogger(__name__)

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


# -- the shell ---------------------------------------------------------------------------------


@dataclass
class SlackChannel:
    """A channel a Slack destination posts to: its threads, and its bot token for ephemeral notes."""

    name: str  # the destination
    threads: ThreadBook
    web: AsyncWebClient | None


def slack_channels(
    settings: Settings, redis: Redis, *, environ: Mapping[str, str] | None = None
) -> dict[str, SlackChannel]:
    """Channel id → :class:`SlackChannel` of every Slack destination in bot mode.

    A bot token the receiver cannot read only costs the ephemeral notes (a WARNING says so).
    """
    from bridge.config.secret_refs import resolve_secret

    channels: dict[str, SlackChannel] = {}
    for destination in settings.destinations:
        if destination.kind != "slack":
            continue
        try:
            options = SlackOptions.model_validate(destination.options)
        except ValidationError:
            continue  # the worker refuses it with the reasons; nothing to reply to here
        if options.token is None or options.channel is None:
            continue
        web = None
        try:
            token = resolve_secret(options.token, environ=environ)
            # no shared session: slack_sdk opens one per call (an ephemeral note is rare)
            web = AsyncWebClient(token=token, base_url=options.api_base_url, timeout=5, retry_handlers=[])
        except ConfigError:
            logger.warning("no bot token for ephemeral replies", extra={"destination": destination.name})
        keys = SlackKeys(options.key_prefix)
        book = ThreadBook(redis, keys, ttl=options.thread_ttl)
        channels[options.channel] = SlackChannel(destination.name, book, web)
    return channels


class ChatReplies:
    """Sends thread replies to their chats as the chat's agent; refusals are ephemeral notes."""

    def __init__(
        self,
        settings: SlackInboundSettings,
        executor: CommandExecutor,
        channels: Mapping[str, SlackChannel],
        *,
        client_name: str,
    ) -> None:
        self._settings = settings
        self._executor = executor
        self._channels = channels
        self._client = client_name

    def knows(self, channel: str) -> bool:
        """True when ``channel`` is one the bridge posts chats to."""
        return channel in self._channels

    async def send(self, reply: ThreadReply) -> None:
        """Send ``reply`` to its chat, or tell the user why not (never raises for a refusal)."""
        channel = self._channels[reply.channel]
        try:
            origin = await channel.threads.origin(reply.channel, reply.thread_ts)
            interaction = origin.interaction_id if origin is not None else None
            if origin is None or interaction is None or origin.media not in (None, "chat"):
                logger.debug("thread reply not in a chat thread", extra={"channel": reply.channel})
                return
            holders = await channel.threads.agents(origin.subject)
        except RedisError as exc:
            logger.warning("slack threads unavailable", extra={"error": type(exc).__name__})
            return await self._note(
                channel, reply, ":warning: The bridge could not look this chat up; try again."
            )
        agent = self._settings.users.get(reply.user)
        refusal = None
        if agent is None:
            refusal = ":no_entry: Your Slack user is not linked to a GWS agent, so nothing was sent."
        elif not self._executor.sessions.knows(agent):
            refusal = f":no_entry: Agent {agent} is not configured in the bridge; nothing was sent."
        elif agent not in holders:
            refusal = f":no_entry: This chat is not {agent}'s; nothing was sent to the customer."
        if refusal is not None or agent is None:
            logger.warning(
                "slack thread reply refused",
                extra={"slack_user": reply.user, "agent": agent, "interaction_id": interaction},
            )
            return await self._note(channel, reply, refusal or "")
        try:
            command = build_command(
                agent=agent,
                action=SLACK_ACTIONS["thread reply"],
                params={"interaction_id": interaction, "text": reply.text},
                dialect=Dialect.SLACK,
            )
            await self._executor.execute(command, self._client)
        except CommandError as exc:
            return await self._note(channel, reply, f":x: Not sent: {exc}")
        except Problem as problem:
            return await self._note(channel, reply, f":x: Not sent to the customer: {problem.detail}")
        logger.info(
            "slack thread reply sent to the chat",
            extra={"agent": agent, "interaction_id": interaction, "command_id": command.id},
        )

    async def _note(self, channel: SlackChannel, reply: ThreadReply, text: str) -> None:
        """An ephemeral message to the user in the thread (logged when it cannot be posted)."""
        if channel.web is None:
            return
        try:
            await channel.web.chat_postEphemeral(
                channel=reply.channel, user=reply.user, text=text, thread_ts=reply.thread_ts
            )
        except (SlackApiError, SlackClientError, TimeoutError, aiohttp.ClientError) as exc:
            logger.warning("ephemeral note not posted", extra={"destination": channel.name,
                                                                 "error": type(exc).__name__})  # fmt: skip
