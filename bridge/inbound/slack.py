"""Slack chatops: ``POST /slack/commands`` (slash commands), ``POST /slack/interactions`` (buttons)
and ``POST /slack/events`` (Events API: a reply in a chat's thread, :mod:`bridge.inbound.slack_events`).

Each request goes through the same steps, and a refusal at any of them makes no GWS call:

1. body limit (413), then Slack's request signature on the raw bytes — ``v0``, HMAC-SHA256 with the
   app's signing secret, timestamp within 5 minutes — by :class:`SlackSignatureVerifier` (401
   otherwise; ``slack_sdk``'s verifier decodes the body first and fails on one that is not UTF-8);
   only then the body is decoded: ``application/x-www-form-urlencoded`` (JSON for events; 415
   otherwise), UTF-8 and well-formed (400 otherwise), within the input limits of
   :mod:`bridge.commands.limits` (422, the interaction ``payload`` included). Each refusal is
   problem+json and one WARNING line;
2. Slack's own retries (``X-Slack-Retry-Num``) and replays of a seen ``trigger_id`` (of an event's
   ``event_id``) are acknowledged and dropped: a command never runs twice;
3. the Slack user must map to a configured GWS agent (``[inbound.slack] users``), and a button or a
   ``/dispo`` must be about that agent's own call or state: otherwise an ephemeral refusal;
4. the answer (HTTP 200) comes at once — Slack wants it within 3 s — and the command runs in the
   background through the receiver's command layer (the executor ``/v1/commands`` uses, with the
   agent's own GWS session); its outcome is posted to the request's ``response_url``. ``/queue``
   answers at once with the statistics snapshot (:mod:`bridge.inbound.slack_queue`), no GWS call.

:func:`install_slack_routes` mounts the two routes on the receiver's aiohttp app.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import aiohttp
import orjson
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.commands import Command, Dialect, build_command
from bridge.commands.limits import LIMITS, check_input
from bridge.config.keys import Keys, SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.errors import CommandError, GwsError
from bridge.gws import operations
from bridge.inbound.http import FORM, InboundRequest, InboundResponse, require_content_type
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, problem_for_command_error
from bridge.inbound.server import note_client
from bridge.inbound.slack_commands import (
    SlackIntent,
    SlackUsageError,
    parse_agent_text,
    parse_block_action,
    parse_dispo_text,
)
from bridge.inbound.slack_events import (
    Challenge,
    ChatReplies,
    SlackChannel,
    ThreadReply,
    parse_event_body,
    slack_channels,
)
from bridge.inbound.slack_queue import queue_reply
from bridge.redis_client import RedisSource, async_redis

if TYPE_CHECKING:
    from bridge.config import Settings
    from bridge.inbound.receiver import Receiver

__all__ = ["SLACK_KEY", "SlackChatops", "SlackSignatureVerifier", "install_slack_routes"]

logger = logging.getLogger(__name__)

CLIENT_NAME = "slack"  # the receiver client name Slack commands are recorded under
# commands.Dialect names the inbound format in the status record; SLACK when that module offers it.
_DIALECT = getattr(Dialect, "SLACK", Dialect.JSON)
_SEEN_TTL = 3600.0


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthorized")


class SlackSignatureVerifier:
    """Slack's request signature (``v0``): HMAC-SHA256 of ``v0:<timestamp>:<raw body bytes>``.

    Works on the bytes as received, so a body that is not UTF-8 is refused as unsigned (401) or,
    once signed, as malformed (400) — never a decoding error.
    """

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode()
        self._clock = clock

    def signature(self, timestamp: str, body: bytes) -> str:
        """The ``X-Slack-Signature`` Slack sends for ``body`` at ``timestamp``."""
        digest = hmac.new(self._key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return "v0=" + digest.hexdigest()

    def verify(self, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
        """Check the signature of ``body``: ``(timestamp, signature)``, or raises ``Problem`` 401."""
        stamp = headers.get("X-Slack-Request-Timestamp") or ""
        signature = headers.get("X-Slack-Signature") or ""
        if not stamp or not signature:
            raise _unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature")
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            raise _unauthorized("X-Slack-Request-Timestamp is not a Unix time")
        if abs(self._clock() - int(stamp)) > 300:
            raise _unauthorized("X-Slack-Request-Timestamp is more than 5 minutes off (stale or replayed)")
        if not signature.isascii() or not hmac.compare_digest(self.signature(stamp, body), signature):
            raise _unauthorized("Slack signature does not match")
        return stamp, signature


def _form_of(headers: Mapping[str, str], body: bytes) -> dict[str, str]:
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


def _event_of(headers: Mapping[str, str], body: bytes) -> Challenge | ThreadReply | None:
    """The signed Events API body: 415 unless JSON, 400 unless an object, 422 naming a bad field."""
    require_content_type(headers.get("Content-Type"))
    parsed = parse_event_body(body)
    return parsed if isinstance(parsed, (Challenge, ThreadReply)) else None


def _ephemeral(text: str, *, replace_original: bool | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if replace_original is not None:
        message["replace_original"] = replace_original
    return message


class SlackChatops:
    """The Slack endpoints' core (framework-neutral), sharing the receiver's executor and store."""

    def __init__(
        self,
        settings: SlackInboundSettings,
        receiver: Receiver,
        *,
        redis: RedisSource | None = None,
        key_prefix: str = "gwsb",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._receiver = receiver
        self._verifier = SlackSignatureVerifier(settings.signing_secret.get_secret_value(), clock)
        self._keys = SlackKeys(key_prefix)
        self._stats_keys = Keys(key_prefix)
        self._redis = async_redis(redis) if redis is not None else None
        self._http: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._replies = ChatReplies(settings, receiver.executor, {}, client_name=CLIENT_NAME)

    @property
    def redis(self) -> Redis | None:
        """The Redis client (None with the memory store)."""
        return self._redis

    def set_channels(self, channels: Mapping[str, SlackChannel]) -> None:
        """The Slack destinations' channels whose chat threads take replies (``POST /slack/events``)."""
        self._replies = ChatReplies(self.settings, self._receiver.executor, channels, client_name=CLIENT_NAME)

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

    # -- the two endpoints -------------------------------------------------------------------------

    async def handle_command(self, request: InboundRequest) -> InboundResponse:
        """``POST /slack/commands``: verify, acknowledge, run in the background; never raises."""
        return await self._guarded(request, self._command)

    async def handle_interaction(self, request: InboundRequest) -> InboundResponse:
        """``POST /slack/interactions``: verify, acknowledge, run the button's command; never raises."""
        return await self._guarded(request, self._interaction)

    async def handle_event(self, request: InboundRequest) -> InboundResponse:
        """``POST /slack/events``: verify, answer a challenge, send a chat thread's reply; never raises."""
        return await self._guarded(request, self._event, parse=_event_of)

    async def _guarded(
        self,
        request: InboundRequest,
        step: Any,
        parse: Callable[[Mapping[str, str], bytes], Any] | None = None,
    ) -> InboundResponse:
        started = time.perf_counter()
        try:
            if request.method.upper() != "POST":
                raise Problem(405, "use POST", kind="method-not-allowed", headers={"Allow": "POST"})
            if len(request.body) > self._receiver.settings.max_body_bytes:
                raise Problem(413, "the body is too large", kind="body-too-large")
            stamp, signature = self._verifier.verify(request.headers, request.body)
            note_client("slack")
            form = (parse or _form_of)(request.headers, request.body)
            if request.headers.get("X-Slack-Retry-Num") and parse is None:
                # Slack retries what it thinks we missed; we got the first try: never run it twice.
                response = InboundResponse(200, b"", "text/plain", {"X-Slack-No-Retry": "1"})
            else:
                response = await step(form, stamp, signature)
        except CommandError as exc:
            response = self._refused(request, problem_for_command_error(exc))
        except Problem as problem:
            response = self._refused(request, problem)
        except Exception:
            logger.exception("slack request failed", extra={"path": request.path})
            response = InboundResponse.json(200, _ephemeral(":warning: The bridge failed; try again."))
        metrics = self._receiver.metrics
        metrics.requests.labels(request.path, str(response.status)).inc()
        metrics.latency.labels(request.path).observe(time.perf_counter() - started)
        return response

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
        return await self._receiver.store.first_signature(
            CLIENT_NAME, msg_id, "" if trigger_id else stamp, _SEEN_TTL
        )

    async def _command(self, form: dict[str, str], stamp: str, signature: str) -> InboundResponse:
        if not await self._first_time(form.get("trigger_id", ""), stamp, signature):
            return InboundResponse(200, b"", "text/plain")
        name = form.get("command", "")
        try:
            if name == self.settings.agent_command:
                intent = parse_agent_text(form.get("text", ""))
            elif name == self.settings.dispo_command:
                intent = parse_dispo_text(form.get("text", ""))
            elif name == self.settings.queue_command:
                return InboundResponse.json(200, await self._queue(form))
            else:
                return InboundResponse.json(200, _ephemeral(f"Unknown command {name[:40]}."))
        except SlackUsageError as usage:
            return InboundResponse.json(200, _ephemeral(str(usage)))
        agent, refusal = await self._authorize(form.get("user_id", ""), intent)
        if refusal is not None:
            return InboundResponse.json(200, _ephemeral(refusal))
        response_url = form.get("response_url", "")
        if not self._allowed_url(response_url):
            return InboundResponse.json(200, _ephemeral(":no_entry: This response_url is not allowed."))
        self._follow_up(agent, intent, response_url, replace_original=None)
        return InboundResponse.json(200, _ephemeral(f":hourglass_flowing_sand: {agent}: {intent.summary}…"))

    async def _queue(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("user_id", "") not in self.settings.users:
            return _ephemeral(":no_entry: Your Slack user is not linked to a GWS agent. Ask an admin.")
        return await queue_reply(self._redis, self._stats_keys, form.get("text", ""))

    async def _interaction(self, form: dict[str, str], stamp: str, signature: str) -> InboundResponse:
        try:
            payload = orjson.loads(form.get("payload", ""))
        except orjson.JSONDecodeError:
            raise Problem(400, "payload is not JSON", kind="bad-request") from None
        if not isinstance(payload, dict):
            raise Problem(400, "payload is not an object", kind="bad-request")
        check_input(payload, loc=["payload"], what="the payload")
        intent = parse_block_action(payload)
        response_url = str(payload.get("response_url") or "")
        if intent is None or not self._allowed_url(response_url):
            return InboundResponse(200, b"", "text/plain")  # not one of our buttons: nothing to do
        if not await self._first_time(str(payload.get("trigger_id") or ""), stamp, signature):
            return InboundResponse(200, b"", "text/plain")
        user = payload.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        agent, refusal = await self._authorize(user_id, intent)
        if refusal is not None:
            self._spawn(self._respond(response_url, _ephemeral(refusal, replace_original=False)))
        else:
            self._follow_up(agent, intent, response_url, replace_original=False)
        return InboundResponse(200, b"", "text/plain")

    async def _event(
        self, parsed: Challenge | ThreadReply | None, stamp: str, signature: str
    ) -> InboundResponse:
        if isinstance(parsed, Challenge):
            return InboundResponse.json(200, {"challenge": parsed.value})
        if parsed is None or not self._replies.knows(parsed.channel):
            return InboundResponse(200, b"", "text/plain")  # nothing for the bridge to do
        # Slack retries an event until it is acknowledged: its event_id says whether we have it.
        if not await self._receiver.store.first_signature(
            CLIENT_NAME, f"event:{parsed.event_id}", "", _SEEN_TTL
        ):
            return InboundResponse(200, b"", "text/plain", {"X-Slack-No-Retry": "1"})
        self._spawn(self._replies.send(parsed))
        return InboundResponse(200, b"", "text/plain")

    # -- authorization -----------------------------------------------------------------------------

    async def _authorize(self, user_id: str, intent: SlackIntent) -> tuple[str, str | None]:
        """``(agent, None)`` when ``user_id`` may do ``intent``, else ``("", refusal text)``. No GWS call."""
        agent = self.settings.users.get(user_id)
        if agent is None:
            return "", ":no_entry: Your Slack user is not linked to a GWS agent. Ask an admin to map it."
        if not self._receiver.executor.sessions.knows(agent):
            return "", f":no_entry: Agent {agent} is not configured in the bridge."
        if intent.for_agent is not None and intent.for_agent != agent:
            return "", f":no_entry: That belongs to {intent.for_agent}; you can only act for {agent}."
        if intent.call_id is not None:  # a disposition, hold, retrieve or transfer: only on one's own call
            owners = await self._call_owners(intent.call_id)
            if owners and agent not in owners:
                return "", f":no_entry: Call {intent.call_id} is not yours; you can only act for {agent}."
        return agent, None

    async def _call_owners(self, call_id: str) -> set[str]:
        """The agents the Slack connector posted this call for (empty when unknown or no Redis)."""
        if self._redis is None:
            return set()
        try:
            members = await self._redis.smembers(self._keys.call_agents(call_id))
        except RedisError:
            logger.warning("call owners unavailable", extra={"call_id": call_id})
            return set()
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    def _allowed_url(self, url: str) -> bool:
        return any(url.startswith(prefix) for prefix in self.settings.response_url_prefixes)

    # -- the follow-up -----------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _follow_up(
        self, agent: str, intent: SlackIntent, response_url: str, *, replace_original: bool | None
    ) -> None:
        async def run() -> None:
            text = await self._perform(agent, intent)
            await self._respond(response_url, _ephemeral(text, replace_original=replace_original))

        self._spawn(run())

    async def _perform(self, agent: str, intent: SlackIntent) -> str:
        """Run ``intent`` as ``agent``; the text to show the user (success or why not)."""
        try:
            if intent.action is None:
                return await self._status(agent)
            params = dict(intent.params)
            if intent.is_disposition:
                call_id = await self._resolve_call(agent, intent)
                if call_id is None:
                    return ":no_entry: No current call found; use `/dispo <disposition> <call id>`."
                params["call_id"] = call_id
            command = build_command(agent=agent, action=intent.action, params=params, dialect=_DIALECT)
            return await self._execute(command, intent)
        except SlackUsageError as refused:
            return str(refused)
        except CommandError as exc:
            return f":x: {agent}: {intent.summary} refused: {exc}"
        except GwsError as exc:
            return f":x: {agent}: GWS did not answer: {exc.message}"

    async def _execute(self, command: Command, intent: SlackIntent) -> str:
        executor = self._receiver.executor
        try:
            execution = await executor.execute(command, CLIENT_NAME)
        except Problem as problem:
            return f":x: {command.agent}: {intent.summary} refused: {problem.detail}"
        outcome = await executor.wait(execution, self.settings.outcome_wait)
        status = outcome.status if outcome is not None else CommandStatus(execution.record["status"])
        if status is CommandStatus.SUCCEEDED:
            return f":white_check_mark: {command.agent}: {intent.summary} done."
        if status is CommandStatus.FAILED:
            detail = outcome.error if outcome is not None and outcome.error else "GWS reported a failure"
            return f":x: {command.agent}: {intent.summary} failed: {detail}"
        return f":hourglass: {command.agent}: {intent.summary} accepted by GWS (command {command.id})."

    async def _resolve_call(self, agent: str, intent: SlackIntent) -> str | None:
        """The call a disposition is for: the one named (if the agent's), else the agent's current call."""
        calls = await operations.get_calls(self._receiver.executor.sessions.client(agent))
        ids = [str(c.get("id")) for c in calls if c.get("id")]
        if intent.call_id is not None:
            if intent.call_id in ids or agent in await self._call_owners(intent.call_id):
                return intent.call_id
            raise SlackUsageError(f":no_entry: Call {intent.call_id} is not one of {agent}'s calls.")
        for state in ("Established", "Held"):
            for call in calls:
                if call.get("state") == state and call.get("id"):
                    return str(call["id"])
        return ids[-1] if ids else None

    async def _status(self, agent: str) -> str:
        devices = await operations.get_devices(self._receiver.executor.sessions.client(agent))
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


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


SLACK_KEY: web.AppKey[SlackChatops] = web.AppKey("slack_chatops", SlackChatops)


def install_slack_routes(app: web.Application, settings: Settings, receiver: Receiver) -> None:
    """Mount ``POST /slack/commands``, ``/slack/interactions`` and ``/slack/events`` (before any catch-all).

    Does nothing when ``[inbound.slack]`` is not configured. The core is ``app[SLACK_KEY]``.
    """
    if settings.inbound.slack is None:
        return
    redis = settings if settings.inbound.store == "redis" else None
    chatops = SlackChatops(
        settings.inbound.slack, receiver, redis=redis, key_prefix=settings.delivery.key_prefix
    )
    if chatops.redis is not None:  # the connector's threads are in Redis: no Redis, no chat replies
        chatops.set_channels(slack_channels(settings, chatops.redis))
    limit = settings.inbound.max_body_bytes

    def adapt(handler: Callable[[InboundRequest], Any]) -> Callable[[web.Request], Any]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            body = await _read_limited(request, limit)
            if body is None:
                body = b"x" * (limit + 1)  # the core answers 413 and counts it
            response = await handler(InboundRequest(request.method, request.path, request.headers, body))
            headers = dict(response.headers, **{"Content-Type": response.content_type})
            return web.Response(status=response.status, body=response.body, headers=headers)

        return endpoint

    async def close(app: web.Application) -> None:
        await chatops.aclose()

    app[SLACK_KEY] = chatops
    app.router.add_route("*", "/slack/commands", adapt(chatops.handle_command))
    app.router.add_route("*", "/slack/interactions", adapt(chatops.handle_interaction))
    app.router.add_route("*", "/slack/events", adapt(chatops.handle_event))
    app.on_cleanup.append(close)
