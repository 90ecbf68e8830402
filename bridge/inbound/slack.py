"""Slack chatops on the receiver: ``POST /slack/commands`` (slash commands), ``/slack/interactions``
(buttons and menus) and ``/slack/events`` (Events API: a reply in a chat's thread).

Every request goes through the same steps, and a refusal at any of them makes no GWS call:

1. **verify** — the body limit (413), then Slack's request signature on the raw bytes
   (:class:`~bridge.inbound.slack_verify.SlackSignatureVerifier`, 401);
2. **parse** — the Slack dialect (:mod:`bridge.inbound.slack_dialect`, pure): a form (JSON for
   events; 415 otherwise), UTF-8 and well-formed (400), within :mod:`bridge.commands.limits`
   (422, the interaction ``payload`` included). Each refusal is problem+json and one WARNING line;
3. **once** — Slack's retries (``X-Slack-Retry-Num``) of a command or a click, and replays of a
   seen ``trigger_id`` or ``event_id``, are acknowledged and dropped: a command never runs twice;
4. **authorize** — :class:`~bridge.inbound.slack_access.SlackAccess`: the Slack user must map to a
   configured agent (``[inbound.slack] users``), and a button, a menu or ``/dispo`` must be about
   that agent's own call or state, a thread reply about a chat the agent holds: otherwise an
   ephemeral refusal;
5. **execute** — the answer (HTTP 200) comes at once — Slack wants it within 3 s — and the command
   runs in the background through the receiver's executor, with the agent's own GWS session
   (:mod:`bridge.inbound.slack_perform`, :mod:`bridge.inbound.slack_chat`);
6. **render** — its outcome is posted, ephemeral, to the request's ``response_url`` (a thread
   reply's refusal is a note in the thread). ``/queue`` answers at once with the statistics
   snapshot (:mod:`bridge.inbound.slack_queue`), no GWS call.

:func:`install_slack_routes` mounts the three routes on the receiver, which serves them like its
own (one adapter, one span, one set of metrics per request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from aiohttp import web
from redis.asyncio import Redis

from bridge.config.keys import Keys, SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.errors import CommandError
from bridge.inbound.executor import CommandExecutor
from bridge.inbound.http import InboundRequest, InboundResponse
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, problem_for_command_error
from bridge.inbound.server import note_client
from bridge.inbound.slack_access import SlackAccess
from bridge.inbound.slack_chat import ChatReplies, SlackChannel, slack_channels
from bridge.inbound.slack_dialect import (
    QueueAsk,
    SlackAnswer,
    SlackAsk,
    SlackDialect,
    SlackRequest,
    ephemeral,
    render_accepted,
)
from bridge.inbound.slack_events import Challenge, ThreadReply
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


def _empty(headers: dict[str, str] | None = None) -> InboundResponse:
    return InboundResponse(200, b"", "text/plain", headers or {})


class SlackChatops:
    """The Slack routes' core (framework-neutral), sharing the receiver's executor and store."""

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
        self._http: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def redis(self) -> Redis | None:
        """The Redis client (None with the memory store)."""
        return self._redis

    def set_channels(self, channels: Mapping[str, SlackChannel]) -> None:
        """The Slack destinations' channels whose chat threads take replies (``POST /slack/events``)."""
        self._replies = ChatReplies(self._access, self._performer, channels)

    async def aclose(self) -> None:
        """Cancel follow-ups still running, close the HTTP session and Redis."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._redis is not None:
            await self._redis.aclose()

    async def wait_idle(self, within: float = 10.0) -> None:
        """Wait (bounded) until every background follow-up finished (tests, graceful shutdown)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=within)

    # -- the pipeline ------------------------------------------------------------------------------

    async def handle(self, request: InboundRequest) -> InboundResponse:
        """``POST /slack/<route>``: verify, parse, once, authorize, then answer; never raises."""
        try:
            route = request.path.removeprefix("/slack/")
            if route not in SLACK_ROUTES:
                raise Problem(404, f"no such resource: {request.path[:100]}", kind="not-found")
            if request.method.upper() != "POST":
                raise Problem(405, "use POST", kind="method-not-allowed", headers={"Allow": "POST"})
            if len(request.body) > self._max_body:
                raise Problem(413, "the body is too large", kind="body-too-large")
            stamp, signature = self._verifier.verify(request.headers, request.body)
            note_client(CLIENT_NAME)
            parsed = self._dialect.parse(route, request.headers, request.body)
            if request.headers.get("X-Slack-Retry-Num") and route != "events":
                # Slack retries what it thinks we missed; we got the first try: never run it twice.
                return _empty({"X-Slack-No-Retry": "1"})
            return await self._answer(parsed, stamp, signature)
        except CommandError as exc:
            return self._refused(request, problem_for_command_error(exc))
        except Problem as problem:
            return self._refused(request, problem)
        except Exception:
            logger.exception("slack request failed", extra={"path": request.path})
            return InboundResponse.json(200, ephemeral(":warning: The bridge failed; try again."))

    @staticmethod
    def _refused(request: InboundRequest, problem: Problem) -> InboundResponse:
        logger.warning(
            "slack request refused",
            extra={"path": request.path, "status": problem.status, "kind": problem.kind},
        )
        return InboundResponse(
            problem.status, orjson.dumps(problem.body(request.path)), PROBLEM_CONTENT_TYPE, problem.headers
        )

    async def _first_time(self, trigger_id: str, stamp: str, signature: str) -> bool:
        # The same signed request again (a replay), or the same trigger (a retry), is not new.
        msg_id = trigger_id or signature
        return await self._store.first_signature(CLIENT_NAME, msg_id, "" if trigger_id else stamp, _SEEN_TTL)

    async def _answer(self, parsed: SlackRequest, stamp: str, signature: str) -> InboundResponse:
        if isinstance(parsed, Challenge):
            return InboundResponse.json(200, {"challenge": parsed.value})
        if isinstance(parsed, ThreadReply):
            return await self._thread_reply(parsed)
        if parsed.trigger_id is not None and not await self._first_time(parsed.trigger_id, stamp, signature):
            return _empty()
        if isinstance(parsed, SlackAnswer):
            return _empty() if parsed.message is None else InboundResponse.json(200, parsed.message)
        if isinstance(parsed, QueueAsk):
            if not self._access.linked(parsed.user_id):
                return InboundResponse.json(200, ephemeral(NOT_LINKED_QUEUE))
            return InboundResponse.json(200, await queue_reply(self._redis, self._stats_keys, parsed.text))
        return await self._ask(parsed)

    async def _ask(self, ask: SlackAsk) -> InboundResponse:
        agent, refusal = await self._access.authorize(ask.user_id, ask.intent)
        clicked = ask.replace_original is not None
        if refusal is not None:
            if not clicked:
                return InboundResponse.json(200, ephemeral(refusal))
            self._spawn(self._respond(ask.response_url, ephemeral(refusal, replace_original=False)))
            return _empty()
        if not self._dialect.allowed_url(ask.response_url):  # a click's was checked while parsing
            return InboundResponse.json(200, ephemeral(":no_entry: This response_url is not allowed."))

        async def follow_up() -> None:
            text = await self._performer.perform(agent, ask.intent)
            await self._respond(ask.response_url, ephemeral(text, replace_original=ask.replace_original))

        self._spawn(follow_up())
        return (
            _empty() if clicked else InboundResponse.json(200, ephemeral(render_accepted(agent, ask.intent)))
        )

    async def _thread_reply(self, reply: ThreadReply) -> InboundResponse:
        if not self._replies.knows(reply.channel):
            return _empty()  # not a channel the bridge posts to: nothing for the bridge to do
        # Slack retries an event until it is acknowledged: its event_id says whether we have it.
        if not await self._store.first_signature(CLIENT_NAME, f"event:{reply.event_id}", "", _SEEN_TTL):
            return _empty({"X-Slack-No-Retry": "1"})
        self._spawn(self._replies.send(reply))
        return _empty()

    # -- background work ---------------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _respond(self, response_url: str, message: dict[str, Any]) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._http.post(response_url, json=message) as response:
                await response.read()
                if response.status >= 400:
                    logger.warning("response_url refused the outcome", extra={"status": response.status})
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The URL is a bearer capability: name the error class only.
            logger.warning("response_url unreachable", extra={"error": type(exc).__name__})


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
    for route in SLACK_ROUTES:
        receiver.mount(f"/slack/{route}", chatops.handle)

    async def close(app: web.Application) -> None:
        await chatops.aclose()

    app[SLACK_KEY] = chatops
    app.on_cleanup.append(close)
