"""The Slack connector: Block Kit messages through the Web API (or one incoming webhook).

Options: :class:`connectors.slack_options.SlackOptions` (docs/slack.md has them all).

State in Redis, under ``{key_prefix}:slack:…`` (:mod:`connectors.slack_state`): the root ``ts``
of each thread and the way back from it to its call or interaction, the next free posting slot of
each channel, the events already posted (a redelivered task does not post twice), and which agents
a call or interaction was posted for (the inbound checks read them).

Errors (:mod:`connectors.slack_errors`): HTTP 429 → :class:`RetryableDeliveryError` with Slack's
``Retry-After`` (and the channel's next slot moves past it, for every worker); authentication and
channel errors → permanent, and the destination is disabled (its events are parked until it is
enabled); a message Slack rejects as malformed → permanent for that event only; anything else →
retryable. Never retries by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, NoReturn

import aiohttp
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bridge.config.delivery import DestinationConfig
from bridge.config.keys import SlackKeys
from bridge.config.secret_refs import resolve_secret
from bridge.errors import ConfigError, RetryableDeliveryError
from bridge.events import Event
from connectors import register_connector
from connectors.slack_blocks import SlackMessage, render_call_card, render_event, thread_subject
from connectors.slack_errors import RootGone, api_failure, delivery_error, retry_after_of
from connectors.slack_options import (
    SlackOptions,
    TransferTarget,
    slack_options_problems,
    slack_routing_notes,
)
from connectors.slack_state import ChannelPacer, ThreadBook
from connectors.slack_wallboard import Wallboard
from connectors.slack_wallboard_blocks import render_threshold_alert, render_wallboard

__all__ = ["SlackConnector", "SlackOptions", "TransferTarget"]

logger = logging.getLogger(__name__)
# slack_sdk's webhook client logs its URL (a secret) when its logger's own level allows DEBUG.
_WEBHOOK_LOGGER = logging.getLogger(f"{__name__}.webhook")
_WEBHOOK_LOGGER.setLevel(logging.INFO)

_SENT_TTL = 24 * 3600


@register_connector("slack")
class SlackConnector:
    """Posts events to one Slack channel (bot token) or one incoming webhook.

    ``session`` is shared (one per worker process) and not closed by :meth:`aclose`.
    ``redis`` holds thread roots, channel pacing and sent markers; the bot mode needs it.
    Raises ``ConfigError`` at construction on invalid options or an unreadable secret.
    """

    kind = "slack"
    uses_redis = True  # the delivery runtime passes its Redis client
    # what `gws-bridge check-config` reports about a destination's options (bridge/delivery/validation.py)
    options_problems = staticmethod(slack_options_problems)
    routing_notes = staticmethod(slack_routing_notes)

    def __init__(
        self,
        config: DestinationConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        redis: Redis | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.name = config.name
        try:
            self.options = SlackOptions.model_validate(config.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise ConfigError(f"destination {config.name!r}: invalid slack options: {problems}") from exc
        options = self.options
        if options.token is not None and redis is None:
            raise ConfigError(f"destination {config.name!r}: the Slack bot mode needs Redis")
        self._session = session
        self._owns_session = session is None
        self._redis = redis
        self._keys = SlackKeys(options.key_prefix)
        self._timeout = int(max(config.timeout, 1))
        self._web: AsyncWebClient | None = None
        self._hook: AsyncWebhookClient | None = None
        self._token = resolve_secret(options.token, environ=environ) if options.token else None
        self._webhook_url = (
            resolve_secret(options.webhook_url, environ=environ) if options.webhook_url else None
        )
        self.channel = options.channel or f"webhook:{config.name}"
        self._pacer = (
            ChannelPacer(redis, self._keys, interval=options.channel_interval, max_wait=options.max_pace_wait)
            if redis is not None
            else None
        )
        self._threads = ThreadBook(redis, self._keys, ttl=options.thread_ttl) if redis is not None else None
        self._wallboard = (
            Wallboard(
                redis, self._keys, self.channel,
                interval=options.wallboard_interval, title=options.wallboard_title,
            )
            if options.wallboard and redis is not None
            else None
        )  # fmt: skip

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _web_client(self) -> AsyncWebClient:
        if self._web is None:
            self._web = AsyncWebClient(
                token=self._token,
                base_url=self.options.api_base_url,
                session=self._client_session(),
                timeout=self._timeout,
                retry_handlers=[],  # the delivery layer decides about retries
                logger=logging.getLogger("slack_sdk.web"),
            )
        return self._web

    def _webhook_client(self) -> AsyncWebhookClient:
        if self._hook is None:
            assert self._webhook_url is not None
            self._hook = AsyncWebhookClient(
                self._webhook_url,
                session=self._client_session(),
                timeout=self._timeout,
                retry_handlers=[],
                logger=_WEBHOOK_LOGGER,
            )
        return self._hook

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, event: Event) -> None:
        """Post ``event`` (root, thread reply or root update); raises a ``DeliveryError`` on failure."""
        message = self._render(event)
        sent_key = self._keys.sent(self.name, event.id)
        try:
            if self._wallboard is not None and event.type.startswith("stats."):
                if event.type == "stats.updated":
                    return await self._wallboard.show(event, self._post, self._update_or_gone)
                await self._wallboard.mark(event, self._post, self._update_or_gone)
            if self._redis is not None and await self._redis.get(sent_key) is not None:
                return  # posted by an earlier attempt whose acknowledgement was lost
            if self._webhook_url is not None:
                await self._pace()
                await self._post_webhook(message)
                ts = "webhook"
            else:
                if self._threads is not None:
                    await self._threads.remember_agent(event)
                subject = thread_subject(event) if self.options.threads != "off" else None
                if subject is None:
                    ts = await self._post(message)
                else:
                    # An update shows the whole call as it stands now, not just this one change.
                    is_call = event.type.startswith("call.")
                    card = (
                        render_call_card(
                            event,
                            dispositions=self.options.dispositions,
                            transfer_targets=self.options.call_controls,
                        )
                        if is_call
                        else message
                    )
                    ts = await self._send_threaded(message, event, subject, card)
            if self._redis is not None:
                await self._redis.set(sent_key, ts, ex=_SENT_TTL)
        except RedisError as exc:
            raise RetryableDeliveryError(f"{self.name}: Redis unavailable ({type(exc).__name__})") from exc

    def _render(self, event: Event) -> SlackMessage:
        if event.type == "stats.threshold_crossed":
            return render_threshold_alert(event)
        if event.type == "stats.updated":  # not a wallboard: one board per update
            return render_wallboard([event.data], title=str(event.data.get("name")), updated=event.time)
        options = self.options
        return render_event(
            event,
            dispositions=options.dispositions,
            buttons=options.agent_buttons,
            transfer_targets=options.call_controls,
        )

    async def _send_threaded(
        self, message: SlackMessage, event: Event, subject: str, card: SlackMessage
    ) -> str:
        """Post the root, or reply in its thread and/or update it with ``card`` (per ``threads``)."""
        assert self._threads is not None and self.options.channel is not None
        channel, media = self.options.channel, event.data.get("channel")
        media = str(media) if media and subject.startswith("interaction/") else None
        root = await self._threads.root(channel, subject)
        if root is None:
            if await self._threads.claim(channel, subject):
                try:
                    ts = await self._post(message)
                except BaseException:
                    await self._threads.release(channel, subject)
                    raise
                await self._threads.set_root(channel, subject, ts, media)
                return ts
            root = await self._threads.wait_for_root(channel, subject)
            if root is None:
                raise RetryableDeliveryError(f"{self.name}: thread root still being posted", retry_after=1.0)
        mode = self.options.threads
        if mode in ("update", "both"):
            try:
                await self._update(root, card)
            except RootGone:
                ts = await self._post(card)  # the root was deleted: start the thread again
                await self._threads.set_root(channel, subject, ts, media)
                return ts
            if mode == "update":
                return root
        return await self._post(message, thread_ts=root)

    async def _pace(self) -> None:
        if self._pacer is None:
            return
        wait = await self._pacer.reserve(self.channel)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _post(self, message: SlackMessage, thread_ts: str | None = None) -> str:
        await self._pace()
        kwargs: dict[str, Any] = message.payload()
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        response = await self._call("chat.postMessage", self._web_client().chat_postMessage, kwargs)
        return str(response.get("ts") or "")

    async def _update(self, ts: str, message: SlackMessage) -> None:
        kwargs: dict[str, Any] = message.payload()
        if not message.attachments:
            kwargs["attachments"] = []  # an update keeps old attachments unless told otherwise
        await self._call("chat.update", self._web_client().chat_update, dict(kwargs, ts=ts))

    async def _update_or_gone(self, ts: str, message: SlackMessage) -> bool:
        try:
            await self._update(ts, message)
        except RootGone:
            return False
        return True

    async def _call(self, method: str, function: Any, kwargs: dict[str, Any]) -> Any:
        assert self.options.channel is not None
        try:
            return await function(channel=self.options.channel, **kwargs)
        except SlackApiError as exc:
            await self._raise_for(method, *api_failure(exc), cause=exc)
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise RetryableDeliveryError(f"{self.name}: {method}: {type(exc).__name__}") from exc

    async def _raise_for(
        self, method: str, status: int, error: str, retry_after: str | None, *, cause: BaseException
    ) -> NoReturn:
        failure = delivery_error(
            f"{self.name}: {method}: HTTP {status}" + (f" {error}" if error else ""),
            status,
            error,
            retry_after,
        )
        if isinstance(failure, RetryableDeliveryError) and failure.retry_after is not None:  # a 429
            delay = failure.retry_after
            if self._pacer is not None:
                try:
                    await self._pacer.hold(self.channel, delay)
                except RedisError:
                    logger.warning("could not hold the channel after a 429", extra={"destination": self.name})
            logger.info("slack rate limited", extra={"destination": self.name, "retry_after": delay})
        raise failure from cause

    async def _post_webhook(self, message: SlackMessage) -> None:
        try:
            response = await self._webhook_client().send_dict(message.payload())
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            # The webhook URL is a secret: name the error class only.
            raise RetryableDeliveryError(f"{self.name}: incoming webhook: {type(exc).__name__}") from exc
        if response.status_code == 200:
            return
        error = (response.body or "").strip()[:100]
        await self._raise_for(
            "incoming webhook",
            response.status_code,
            error,
            retry_after_of(response.headers),
            cause=RuntimeError(error),
        )

    async def aclose(self) -> None:
        """Close the HTTP session when the connector opened it (the Redis client belongs to the caller)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None
        self._web = None
        self._hook = None
