"""A reply in a chat's Slack thread, sent to the customer as the chat's agent.

The Slack connector posts a chat's events in one thread per channel and remembers the way back
from the thread's root to the interaction and who holds it (:class:`connectors.slack_state.ThreadBook`).
:meth:`ChatReplies.authorize` (the Slack routes' authorize step) finds the chat of a
:class:`~bridge.inbound.slack_events.ThreadReply` and checks that its author is linked to the agent
holding it (:class:`~bridge.inbound.slack_access.SlackAccess`); :meth:`ChatReplies.send` (in the
background, after the answer) runs ``chat.send_message`` through
:class:`~bridge.inbound.slack_perform.SlackPerformer`. A refusal is an ephemeral note in the thread
(``chat.postEphemeral`` with the destination's bot token) and a WARNING line; nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.config.keys import SlackKeys
from bridge.errors import ConfigError
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.slack_access import SlackAccess
from bridge.inbound.slack_commands import SLACK_ACTIONS, SlackIntent
from bridge.inbound.slack_dialect import render_outcome
from bridge.inbound.slack_events import ThreadReply
from bridge.inbound.slack_perform import SlackPerformer
from connectors.slack_options import SlackOptions
from connectors.slack_state import ThreadBook

if TYPE_CHECKING:
    from bridge.config import Settings

__all__ = ["ChatNote", "ChatReplies", "ChatSend", "SlackChannel", "slack_channels"]

logger = logging.getLogger(__name__)

NOT_LINKED = ":no_entry: Your Slack user is not linked to a GWS agent, so nothing was sent."


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


@dataclass(frozen=True)
class ChatSend:
    """A reply its author may send: as ``agent``, to the chat ``interaction``."""

    channel: SlackChannel
    reply: ThreadReply
    agent: str
    interaction: str


@dataclass(frozen=True)
class ChatNote:
    """A reply refused (or not looked up): ``text`` is the ephemeral note to its author."""

    channel: SlackChannel
    reply: ThreadReply
    text: str


class ChatReplies:
    """Sends thread replies to their chats as the chat's agent; refusals are ephemeral notes."""

    def __init__(
        self, access: SlackAccess, performer: SlackPerformer, channels: Mapping[str, SlackChannel]
    ) -> None:
        self._access = access
        self._performer = performer
        self._channels = channels

    def knows(self, channel: str) -> bool:
        """True when ``channel`` is one the bridge posts chats to."""
        return channel in self._channels

    async def authorize(self, reply: ThreadReply) -> ChatSend | ChatNote | None:
        """May ``reply``'s author send it to its chat (a linked user, the agent holding the chat)?
        None when the thread is not a chat's; reads the connector's threads, never raises for them."""
        channel = self._channels[reply.channel]
        try:
            origin = await channel.threads.origin(reply.channel, reply.thread_ts)
            interaction = origin.interaction_id if origin is not None else None
            if origin is None or interaction is None or origin.media not in (None, "chat"):
                logger.debug("thread reply not in a chat thread", extra={"channel": reply.channel})
                return None
            holders = await channel.threads.agents(origin.subject)
        except RedisError as exc:
            logger.warning("slack threads unavailable", extra={"error": type(exc).__name__})
            return ChatNote(channel, reply, ":warning: The bridge could not look this chat up; try again.")
        agent, refusal = self._access.agent_of(reply.user)
        if not self._access.linked(reply.user):
            refusal = NOT_LINKED
        elif refusal is None and agent not in holders:
            refusal = f":no_entry: This chat is not {agent}'s; nothing was sent to the customer."
        if refusal is None:
            return ChatSend(channel, reply, agent, interaction)
        logger.warning(
            "slack thread reply refused",
            extra={"slack_user": reply.user, "agent": agent or None, "interaction_id": interaction},
        )
        return ChatNote(channel, reply, refusal)

    async def send(self, target: ChatSend | ChatNote) -> None:
        """Send an authorized reply to its chat, or tell the user why not (never raises for a refusal)."""
        if isinstance(target, ChatNote):
            return await self._note(target.channel, target.reply, target.text)
        params = {"interaction_id": target.interaction, "text": target.reply.text}
        outcome = await self._performer.run(
            target.agent, SlackIntent(SLACK_ACTIONS["thread reply"], params, "reply")
        )
        if outcome.status is not CommandStatus.SUCCEEDED:
            return await self._note(
                target.channel, target.reply, render_outcome(outcome) + " Nothing reached the customer."
            )
        logger.info(
            "slack thread reply sent to the chat",
            extra={"agent": target.agent, "interaction_id": target.interaction,
                   "command_id": outcome.command_id},
        )  # fmt: skip

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
