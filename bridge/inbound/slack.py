"""Slack chatops on the receiver: ``POST /slack/commands`` (slash commands), ``/slack/interactions``
(buttons and menus) and ``/slack/events`` (Events API: a reply in a chat's thread).

:class:`SlackChatops` is a :class:`~bridge.inbound.http.PlatformRoute`: the receiver runs its
steps, in this order, and a refusal at any of them makes no GWS call:

1. **verify** — POST only (405), the body limit (413), then Slack's request signature on the raw
   bytes and its 5-minute window (:class:`~bridge.inbound.slack_verify.SlackSignatureVerifier`, 401);
2. **parse** — the Slack dialect (:mod:`bridge.inbound.slack_dialect`, pure): a form (JSON for
   events; 415 otherwise), UTF-8 and well-formed (400), within :mod:`bridge.commands.limits`
   (422, the interaction ``payload`` included). Each refusal is problem+json and one WARNING line;
3. **authorize** — first once: Slack's retries (``X-Slack-Retry-Num``) of a command or a click,
   and replays of a seen ``trigger_id`` or ``event_id``, are acknowledged and dropped, so a command
   never runs twice; then :class:`~bridge.inbound.slack_access.SlackAccess`: the Slack user must
   map to a configured agent (``[inbound.slack] users``), and a button, a menu or ``/dispo`` must
   be about that agent's own call or state, a thread reply about a chat the agent holds
   (:meth:`~bridge.inbound.slack_chat.ChatReplies.authorize`): otherwise an ephemeral refusal;
4. **execute** — the command starts in the background (:mod:`bridge.inbound.slack_followups`)
   through the receiver's executor, with the agent's own GWS session
   (:mod:`bridge.inbound.slack_perform`, :mod:`bridge.inbound.slack_chat`); ``/queue`` reads the
   statistics snapshot (:mod:`bridge.inbound.slack_queue`), no GWS call;
5. **render** — the answer (HTTP 200) comes at once — Slack wants it within 3 s. The command's
   outcome is posted later, ephemeral, to the request's ``response_url`` (a thread reply's refusal
   or failure is a note in the thread).

:func:`install_slack_routes` mounts the three routes on the receiver, which serves them like its
own (one adapter, one span, one set of metrics per request).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from redis.asyncio import Redis

from bridge.config.keys import Keys, SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.inbound.executor import CommandExecutor
from bridge.inbound.http import InboundRequest, InboundResponse
from bridge.inbound.problems import Problem
from bridge.inbound.server import note_client
from bridge.inbound.slack_access import SlackAccess
from bridge.inbound.slack_chat import ChatNote, ChatReplies, ChatSend, SlackChannel, slack_channels
from bridge.inbound.slack_dialect import (
    Answer,
    QueueAsk,
    Retried,
    SlackAnswer,
    SlackAsk,
    SlackDialect,
    SlackRequest,
    ephemeral,
    render_accepted,
    render_answer,
)
from bridge.inbound.slack_events import Challenge, ThreadReply
from bridge.inbound.slack_followups import FollowUps
from bridge.inbound.slack_perform import SlackPerformer
from bridge.inbound.slack_queue import queue_reply
from bridge.inbound.slack_verify import SlackSignatureVerifier
from bridge.inbound.store import CommandStore
from bridge.redis_client import RedisSource, async_redis

if TYPE_CHECKING:
    from bridge.config import Settings
    from bridge.inbound.receiver import Receiver

__all__ = ["SLACK_KEY", "SLACK_ROUTES", "SlackChatops", "SlackSignatureVerifier", "install_slack_routes"]

logger = logging.getLogger(__name__)

CLIENT_NAME = "slack"  # the receiver client name Slack commands are recorded under
SLACK_ROUTES = ("commands", "interactions", "events")
_SEEN_TTL = 3600.0
NOT_LINKED_QUEUE = ":no_entry: Your Slack user is not linked to a GWS agent. Ask an admin."


@dataclass(frozen=True)
class SlackSigned:
    """What the verify step found: the request's signature (a replay's is the same)."""

    stamp: str
    signature: str


@dataclass(frozen=True)
class _Run:
    """An authorized ask: run ``ask`` as ``agent``, in the background."""

    agent: str
    ask: SlackAsk


@dataclass(frozen=True)
class _RefuseClick:
    """A click refused: the refusal goes to its ``response_url`` (a new message, the card stays)."""

    ask: SlackAsk
    text: str


@dataclass(frozen=True)
class _ReadQueue:
    """``/queue [text]`` by a linked user."""

    text: str


_Target = Answer | _Run | _RefuseClick | _ReadQueue | ChatSend | ChatNote  # authorize → execute


class SlackChatops:
    """The Slack routes' steps (a :class:`~bridge.inbound.http.PlatformRoute`, framework-neutral),
    sharing the receiver's executor and store."""

    def __init__(
        self,
        settings: SlackInboundSettings,
        executor: CommandExecutor,
        store: CommandStore,
        *,
        redis: RedisSource | None = None,
        key_prefix: str = "gwsb",
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = 1 << 20,
    ) -> None:
        self.settings = settings
        self._store = store
        self._max_body = max_body_bytes
        self._verifier = SlackSignatureVerifier(settings.signing_secret.get_secret_value(), clock)
        self._dialect = SlackDialect(settings)
        self._stats_keys = Keys(key_prefix)
        self._redis = async_redis(redis) if redis is not None else None
        self._access = SlackAccess(settings, executor.sessions.knows, self._redis, SlackKeys(key_prefix))
        self._performer = SlackPerformer(
            executor, self._access, outcome_wait=settings.outcome_wait, client_name=CLIENT_NAME
        )
        self._replies = ChatReplies(self._access, self._performer, {})
        self._follow_ups = FollowUps()

    @property
    def redis(self) -> Redis | None:
        """The Redis client (None with the memory store)."""
        return self._redis

    def set_channels(self, channels: Mapping[str, SlackChannel]) -> None:
        """The Slack destinations' channels whose chat threads take replies (``POST /slack/events``)."""
        self._replies = ChatReplies(self._access, self._performer, channels)

    async def aclose(self) -> None:
        """Cancel follow-ups still running, close the HTTP session and Redis."""
        await self._follow_ups.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def wait_idle(self, within: float = 10.0) -> None:
        """Wait (bounded) until every background follow-up finished (tests, graceful shutdown)."""
        await self._follow_ups.wait_idle(within)

    # -- the steps ---------------------------------------------------------------------------------

    async def verify(self, request: InboundRequest) -> SlackSigned:
        """POST only (405), within the body limit (413), signed by Slack within 5 minutes (401)."""
        if request.method.upper() != "POST":
            raise Problem(405, "use POST", kind="method-not-allowed", headers={"Allow": "POST"})
        if len(request.body) > self._max_body:
            raise Problem(413, "the body is too large", kind="body-too-large")
        stamp, signature = self._verifier.verify(request.headers, request.body)
        note_client(CLIENT_NAME)
        return SlackSigned(stamp, signature)

    def parse(self, request: InboundRequest) -> SlackRequest:
        """The dialect's (pure): :meth:`SlackDialect.parse` of the route mounted at this path."""
        return self._dialect.parse(request.path.removeprefix("/slack/"), request.headers, request.body)

    async def authorize(self, signed: SlackSigned, parsed: SlackRequest) -> _Target:
        """Once (a retry, a seen trigger or event: acknowledged, nothing runs), then who may do it:
        the user's agent, on that agent's own call or chat (a refusal is an ephemeral answer)."""
        if isinstance(parsed, Retried):  # Slack retries what it thinks we missed: never run it twice
            return Answer(no_retry=True)
        if isinstance(parsed, Challenge):
            return Answer({"challenge": parsed.value})
        if isinstance(parsed, ThreadReply):
            return await self._authorize_reply(parsed)
        if parsed.trigger_id is not None and not await self._first_time(parsed.trigger_id, signed):
            return Answer()
        if isinstance(parsed, SlackAnswer):
            return Answer(parsed.message)
        if isinstance(parsed, QueueAsk):
            linked = self._access.linked(parsed.user_id)
            return _ReadQueue(parsed.text) if linked else Answer(ephemeral(NOT_LINKED_QUEUE))
        agent, refusal = await self._access.authorize(parsed.user_id, parsed.intent)
        if refusal is not None:
            clicked = parsed.replace_original is not None
            return _RefuseClick(parsed, refusal) if clicked else Answer(ephemeral(refusal))
        if not self._dialect.allowed_url(parsed.response_url):  # a click's was checked while parsing
            return Answer(ephemeral(":no_entry: This response_url is not allowed."))
        return _Run(agent, parsed)

    async def execute(self, target: _Target) -> Answer:
        """Start what was authorized in the background (the 3 s answer does not wait for GWS);
        ``/queue`` reads the statistics snapshot at once."""
        if isinstance(target, Answer):
            return target
        if isinstance(target, _ReadQueue):
            return Answer(await queue_reply(self._redis, self._stats_keys, target.text))
        if isinstance(target, (ChatSend, ChatNote)):
            self._follow_ups.spawn(self._replies.send(target))
            return Answer()
        if isinstance(target, _RefuseClick):
            refusal = ephemeral(target.text, replace_original=False)
            self._follow_ups.spawn(self._follow_ups.respond(target.ask.response_url, refusal))
            return Answer()
        self._follow_ups.spawn(self._run(target.agent, target.ask))
        if target.ask.replace_original is not None:  # a click: the outcome follows, the card stays
            return Answer()
        return Answer(ephemeral(render_accepted(target.agent, target.ask.intent)))

    def render(self, answer: Answer) -> InboundResponse:
        return render_answer(answer)

    def refused(self, request: InboundRequest, problem: Problem) -> InboundResponse:
        """problem+json and one WARNING line (no body, no headers)."""
        logger.warning(
            "slack request refused",
            extra={"path": request.path, "status": problem.status, "kind": problem.kind},
        )
        return InboundResponse.problem(problem, request.path)

    def failed(self, request: InboundRequest) -> InboundResponse:
        """Slack shows a 5xx as a failure of the app: the user is told to try again instead."""
        logger.exception("slack request failed", extra={"path": request.path})
        return render_answer(Answer(ephemeral(":warning: The bridge failed; try again.")))

    # -- what the steps use ------------------------------------------------------------------------

    async def _first_time(self, trigger_id: str, signed: SlackSigned) -> bool:
        # The same signed request again (a replay), or the same trigger (a retry), is not new.
        msg_id = trigger_id or signed.signature
        stamp = "" if trigger_id else signed.stamp
        return await self._store.first_signature(CLIENT_NAME, msg_id, stamp, _SEEN_TTL)

    async def _authorize_reply(self, reply: ThreadReply) -> _Target:
        if not self._replies.knows(reply.channel):
            return Answer()  # not a channel the bridge posts to: nothing for the bridge to do
        # Slack retries an event until it is acknowledged: its event_id says whether we have it.
        if not await self._store.first_signature(CLIENT_NAME, f"event:{reply.event_id}", "", _SEEN_TTL):
            return Answer(no_retry=True)
        target = await self._replies.authorize(reply)
        return Answer() if target is None else target

    async def _run(self, agent: str, ask: SlackAsk) -> None:
        text = await self._performer.perform(agent, ask.intent)
        message = ephemeral(text, replace_original=ask.replace_original)
        await self._follow_ups.respond(ask.response_url, message)


SLACK_KEY: web.AppKey[SlackChatops] = web.AppKey("slack_chatops", SlackChatops)


def install_slack_routes(app: web.Application, settings: Settings, receiver: Receiver) -> None:
    """Mount ``POST /slack/commands``, ``/slack/interactions`` and ``/slack/events`` on ``receiver``.

    Does nothing when ``[inbound.slack]`` is not configured. The core is ``app[SLACK_KEY]``; it
    closes with the app.
    """
    if settings.inbound.slack is None:
        return
    chatops = SlackChatops(
        settings.inbound.slack,
        receiver.executor,
        receiver.store,
        redis=settings if settings.inbound.store == "redis" else None,
        key_prefix=settings.delivery.key_prefix,
        max_body_bytes=settings.inbound.max_body_bytes,
    )
    # the connector's threads are in Redis: no Redis, no chat replies
    channels = slack_channels(settings, chatops.redis) if chatops.redis is not None else {}
    chatops.set_channels(channels)
    if not channels:  # every reply would be dropped without a word: say so once
        logger.warning(
            "no Slack destination with a token and channel in this configuration (or no Redis store): "
            "replies in chat threads (POST /slack/events) are ignored; give the receiver the workers' "
            "[[destinations]]"
        )
    for route in SLACK_ROUTES:  # the receiver runs the steps (PlatformRoute)
        receiver.mount(f"/slack/{route}", chatops)

    async def close(app: web.Application) -> None:
        await chatops.aclose()

    app[SLACK_KEY] = chatops
    app.on_cleanup.append(close)
