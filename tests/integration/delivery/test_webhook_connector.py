"""The webhook connector against a real loopback sink: what counts as success, retry, permanent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from standardwebhooks.webhooks import Webhook

from bridge.config.delivery import DestinationConfig
from bridge.errors import PermanentDeliveryError, RetryableDeliveryError
from connectors.webhook import WebhookConnector
from tests.plugins.contract import header_problems
from tests.plugins.delivery import Reply, WebhookSink, make_event
from tests.plugins.ports import free_port

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def connector(url: str, session: aiohttp.ClientSession, **fields: object) -> WebhookConnector:
    config = DestinationConfig(name="crm", kind="webhook", url=url, secrets=[SECRET], **fields)  # type: ignore[arg-type]
    return WebhookConnector(config, session=session)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_any_2xx_is_success(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession, status: int
) -> None:
    webhook_sink.behaviour = lambda _: Reply(status)
    await connector(webhook_sink.url, session).send(make_event(1))
    received = webhook_sink.received[0]
    assert Webhook(SECRET).verify(received.body, received.headers)["id"] == make_event(1).id
    assert received.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert header_problems(dict(received.headers)) == []  # as docs/schemas/asyncapi.json says
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 5


@pytest.mark.parametrize("status", [301, 302, 400, 401, 404, 500, 502])
async def test_other_statuses_including_redirects_are_retryable(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession, status: int
) -> None:
    webhook_sink.behaviour = lambda _: Reply(status, {"Location": "/elsewhere"} if status < 400 else {})
    with pytest.raises(RetryableDeliveryError, match=f"HTTP {status}") as info:
        await connector(webhook_sink.url, session).send(make_event(1))
    assert info.value.retry_after is None
    assert len(webhook_sink.received) == 1  # the redirect was not followed


async def test_410_is_permanent_and_asks_to_disable(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession
) -> None:
    webhook_sink.behaviour = lambda _: Reply(410)
    with pytest.raises(PermanentDeliveryError) as info:
        await connector(webhook_sink.url, session).send(make_event(1))
    assert info.value.disable_destination


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_read_on_429_and_503(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession, status: int
) -> None:
    webhook_sink.behaviour = lambda _: Reply(status, {"Retry-After": "17"})
    with pytest.raises(RetryableDeliveryError) as info:
        await connector(webhook_sink.url, session).send(make_event(1))
    assert info.value.retry_after == 17.0


async def test_network_failures_and_timeouts_are_retryable_without_the_url(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession
) -> None:
    refused = f"http://127.0.0.1:{free_port()}/secret-token-in-path"
    with pytest.raises(RetryableDeliveryError) as info:
        await connector(refused, session).send(make_event(1))
    assert "secret-token" not in str(info.value)
    webhook_sink.behaviour = lambda _: Reply(200, delay=1.0)
    with pytest.raises(RetryableDeliveryError, match="Timeout"):
        await connector(webhook_sink.url, session, timeout=0.2).send(make_event(1))


async def test_extra_headers_are_sent_and_the_webhook_id_is_the_event_id(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession
) -> None:
    hook = connector(webhook_sink.url, session, headers={"Authorization": "Bearer t", "X-Tenant": "acme"})
    event = make_event(3)
    await hook.send(event)
    await hook.send(event)  # a retry: same id, fresh timestamp and signature
    first, second = webhook_sink.received
    assert first.headers["authorization"] == "Bearer t" and first.headers["x-tenant"] == "acme"
    assert first.webhook_id == second.webhook_id == event.id
    assert first.body == second.body == event.to_json()


async def test_a_destination_header_overrides_the_structured_mode_content_type(
    webhook_sink: WebhookSink, session: aiohttp.ClientSession
) -> None:
    hook = connector(webhook_sink.url, session, headers={"Content-Type": "application/json"})
    await hook.send(make_event(1))
    assert webhook_sink.received[0].headers["content-type"] == "application/json"


async def test_a_connector_without_a_shared_session_opens_and_closes_its_own(
    webhook_sink: WebhookSink,
) -> None:
    hook = WebhookConnector(DestinationConfig(name="crm", kind="webhook", url=webhook_sink.url))
    await hook.send(make_event(1))
    await hook.aclose()
    assert webhook_sink.received[0].webhook_id == make_event(1).id
    assert "webhook-signature" not in webhook_sink.received[0].headers  # no secret configured
