"""The Slack connector against the mock Slack Web API and a real Redis."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from bridge.config.delivery import DeliverySettings, DestinationConfig
from bridge.config.keys import Keys, SlackKeys
from bridge.delivery.deliver import Deliverer
from bridge.delivery.items import QueuedDelivery
from bridge.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError
from connectors import connector_class
from connectors.slack import SlackConnector
from connectors.slack_blocks import render_event
from tests.integration.slack.conftest import CHANNEL, ENVIRON, make_event
from tests.plugins.slack import BOT_TOKEN, MockSlack

Factory = Callable[..., SlackConnector]
CALL = "0071023c62a4a02a"


async def test_first_call_event_posts_the_root_and_later_ones_reply_in_its_thread(
    slack_factory: Factory, slack_api: MockSlack, redis: Redis
) -> None:
    slack = slack_factory(dispositions=["Resolved"])
    ringing, established = make_event("call.ringing"), make_event("call.established")
    await slack.send(ringing)
    await slack.send(established)
    await slack.send(make_event("call.released", call_id=CALL))
    root, reply, released = slack_api.of("chat.postMessage")
    assert root.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert root.body["channel"] == CHANNEL and "thread_ts" not in root.body
    assert root.body["blocks"] == render_event(ringing).blocks
    assert root.body["text"] == "Incoming call from 5005 to jsmith"
    root_ts = slack_api.messages and next(iter(slack_api.messages))
    assert reply.body["thread_ts"] == root_ts and released.body["thread_ts"] == root_ts
    assert (
        reply.body["blocks"]
        == render_event(established, dispositions=["Resolved"], transfer_targets=()).blocks
    )
    assert (await redis.get(SlackKeys().thread(CHANNEL, f"call/{CALL}"))).decode() == root_ts
    assert await redis.smembers(SlackKeys().call_agents(CALL)) == {b"jsmith"}


async def test_update_mode_rewrites_the_root_instead_of_replying(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(threads="update", dispositions=["Resolved"])
    await slack.send(make_event("call.ringing"))
    await slack.send(make_event("call.established"))
    assert len(slack_api.of("chat.postMessage")) == 1
    (update,) = slack_api.of("chat.update")
    ts = next(iter(slack_api.messages))
    assert update.body["ts"] == ts and update.body["channel"] == CHANNEL
    assert (
        update.body["blocks"]
        == render_event(make_event("call.established"), dispositions=["Resolved"], transfer_targets=()).blocks
    )
    assert slack_api.messages[ts]["text"].startswith("jsmith is on a call")


async def test_in_update_mode_the_root_always_shows_the_whole_call(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(threads="update", dispositions=["Resolved"])
    for kind in ("call.ringing", "call.established", "call.held", "call.released"):
        state = kind.split(".")[1].capitalize()
        case = {"case": {"POC": "New Service"}, "case_display_names": {"POC": "Purpose of Call"}}
        await slack.send(make_event(kind, call_id=CALL, state=state, duration=75, ani="5005", **case))
    assert len(slack_api.of("chat.postMessage")) == 1 and len(slack_api.of("chat.update")) == 3
    (root,) = slack_api.messages.values()
    assert root["blocks"][0]["text"]["text"] == ":end: Call with 5005 ended (1:15)"
    shown = str(root["blocks"])
    assert "Purpose of Call" in shown  # the case data stays on the root
    assert "Resolved" in shown  # a released call can still be dispositioned


async def test_both_mode_updates_the_root_and_replies(slack_factory: Factory, slack_api: MockSlack) -> None:
    slack = slack_factory(threads="both")
    await slack.send(make_event("call.ringing"))
    await slack.send(make_event("call.established"))
    assert len(slack_api.of("chat.update")) == 1
    assert [c.body.get("thread_ts") is not None for c in slack_api.of("chat.postMessage")] == [False, True]


async def test_a_deleted_root_starts_a_new_thread_in_update_mode(
    slack_factory: Factory, slack_api: MockSlack, redis: Redis
) -> None:
    slack = slack_factory(threads="update")
    await slack.send(make_event("call.ringing"))
    slack_api.messages.clear()  # someone deleted the root message in Slack
    await slack.send(make_event("call.established"))
    assert len(slack_api.of("chat.postMessage")) == 2
    new_root = next(iter(slack_api.messages))
    assert (await redis.get(SlackKeys().thread(CHANNEL, f"call/{CALL}"))).decode() == new_root


async def test_agent_and_service_events_are_standalone_posts(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory()
    await slack.send(make_event("agent.state_changed"))
    await slack.send(make_event("service.state_changed"))
    state, outage = slack_api.of("chat.postMessage")
    assert "thread_ts" not in state.body and "thread_ts" not in outage.body
    assert outage.body["attachments"][0]["color"] == "#E01E5A"
    assert outage.body["text"].startswith("ALERT:")


async def test_a_redelivered_event_is_not_posted_twice(slack_factory: Factory, slack_api: MockSlack) -> None:
    slack = slack_factory()
    event = make_event("agent.state_changed")
    await slack.send(event)
    await slack.send(event)
    assert len(slack_api.of("chat.postMessage")) == 1


async def test_two_workers_racing_on_a_new_call_post_one_root(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    first, second = slack_factory(), slack_factory()
    await asyncio.gather(first.send(make_event("call.ringing")), second.send(make_event("call.established")))
    posts = slack_api.of("chat.postMessage")
    assert len(posts) == 2
    assert sorted("thread_ts" in p.body for p in posts) == [False, True]


async def test_a_burst_to_one_channel_is_paced_across_workers(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    interval = 0.25
    workers = [slack_factory(channel_interval=interval), slack_factory(channel_interval=interval)]
    events = [make_event("agent.state_changed", event_id=f"burst-{i}") for i in range(8)]
    started = time.monotonic()
    await asyncio.gather(*(workers[i % 2].send(e) for i, e in enumerate(events)))
    arrivals = sorted(c.at for c in slack_api.of("chat.postMessage"))
    assert len(arrivals) == 8
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Slots are exactly `interval` apart (Redis's clock); arrival adds scheduling jitter on a busy box.
    assert arrivals[-1] - arrivals[0] >= interval * 7 * 0.95, gaps
    assert min(gaps) >= interval * 0.5, gaps
    assert time.monotonic() - started >= interval * 7 * 0.95


async def test_a_slot_too_far_away_goes_back_to_the_schedule(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(channel_interval=1.0, max_pace_wait=0.3)
    await slack.send(make_event("agent.state_changed", event_id="a"))
    with pytest.raises(RetryableDeliveryError) as caught:
        await slack.send(make_event("agent.state_changed", event_id="b"))
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 1.0
    assert len(slack_api.of("chat.postMessage")) == 1


async def test_429_is_retryable_with_retry_after_and_holds_the_channel_for_every_worker(
    slack_factory: Factory, slack_api: MockSlack, redis: Redis
) -> None:
    first, second = slack_factory(max_pace_wait=0.5), slack_factory(max_pace_wait=0.5)
    slack_api.fail_next("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(RetryableDeliveryError) as caught:
        await first.send(make_event("call.ringing"))
    assert caught.value.retry_after == 3
    # The failed root claim is released, and the other worker is held back too.
    assert await redis.get(SlackKeys().thread(CHANNEL, f"call/{CALL}")) is None
    with pytest.raises(RetryableDeliveryError) as held:
        await second.send(make_event("agent.state_changed"))
    assert held.value.retry_after is not None and held.value.retry_after > 2
    assert len(slack_api.of("chat.postMessage")) == 0


async def test_429_goes_through_the_delivery_layer_retry_schedule(
    slack_factory: Factory, slack_api: MockSlack, redis: Redis
) -> None:
    slack = slack_factory()
    config = DestinationConfig(name="slack-cc", kind="slack", options={"token": "env:X", "channel": CHANNEL})
    keys = Keys("gwsb-test")

    async def enqueue(deliveries: object) -> None:
        raise AssertionError("nothing should be enqueued")

    deliverer = Deliverer(
        settings=DeliverySettings(),
        destinations={"slack-cc": config},
        connectors={"slack-cc": slack},
        routes=[],
        redis=redis,
        keys=keys,
        enqueue=enqueue,
        source="test",
    )
    slack_api.fail_next("chat.postMessage", status=429, retry_after=7)
    event = make_event("agent.state_changed")
    before = time.time()
    await deliverer.deliver_batch("slack-cc", [QueuedDelivery.for_event(event, "slack-cc").to_wire()])
    ((wire, due),) = await deliverer.retries.entries()
    assert QueuedDelivery.from_wire(wire).attempts[0].detail.endswith("HTTP 429 ratelimited")
    assert before + 7 <= due <= time.time() + 7.5  # Slack's Retry-After, not the 5 s schedule step


@pytest.mark.parametrize(
    ("status", "error", "permanent", "disable"),
    [
        (200, "channel_not_found", True, True),
        (200, "not_in_channel", True, True),
        (200, "invalid_blocks", True, False),
        (200, "msg_too_long", True, False),
        (500, "internal_error", False, False),
        (200, "fatal_error", False, False),
    ],
)
async def test_slack_errors_are_classified(
    slack_factory: Factory, slack_api: MockSlack, status: int, error: str, permanent: bool, disable: bool
) -> None:
    slack = slack_factory()
    slack_api.fail_next("chat.postMessage", status=status, error=error, retry_after=None)
    expected = PermanentDeliveryError if permanent else RetryableDeliveryError
    with pytest.raises(expected) as caught:
        await slack.send(make_event("agent.state_changed"))
    assert error in str(caught.value)
    if permanent:
        assert caught.value.disable_destination is disable  # type: ignore[attr-defined]


async def test_a_revoked_token_disables_the_destination_and_is_never_logged(
    slack_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    slack = slack_factory(token="env:WRONG_TOKEN")
    with pytest.raises(PermanentDeliveryError) as caught:
        await slack.send(make_event("agent.state_changed"))
    assert caught.value.disable_destination
    assert "invalid_auth" in str(caught.value)
    assert ENVIRON["WRONG_TOKEN"] not in caplog.text + str(caught.value)


async def test_an_unreachable_slack_is_retryable(slack_factory: Factory) -> None:
    from tests.plugins.ports import free_port

    slack = slack_factory(api_base_url=f"http://127.0.0.1:{free_port()}/api/")
    with pytest.raises(RetryableDeliveryError):
        await slack.send(make_event("agent.state_changed"))


async def test_incoming_webhook_mode_posts_blocks_to_the_fixed_url(
    slack_factory: Factory, slack_api: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # even with debug logging on, the webhook URL (a secret) stays out
    environ_url = "SLACK_WEBHOOK"
    ENVIRON[environ_url] = slack_api.webhook_url
    try:
        slack = slack_factory(webhook_url=f"env:{environ_url}")
        await slack.send(make_event("call.ringing"))
        await slack.send(make_event("call.established"))  # no threads without a bot token
        first, second = slack_api.of("webhook")
        assert first.body["blocks"] == render_event(make_event("call.ringing")).blocks
        assert "thread_ts" not in second.body and "channel" not in second.body
        slack_api.fail_next("/hooks/", status=429, error="rate_limited", retry_after=4)
        with pytest.raises(RetryableDeliveryError) as caught:
            await slack.send(make_event("agent.state_changed"))
        assert caught.value.retry_after == 4
        assert "secretpart" not in str(caught.value)
        slack_api.fail_next("/hooks/", status=404, error="no_service", retry_after=None)
        with pytest.raises(PermanentDeliveryError) as gone:
            await slack.send(make_event("agent.state_changed"))
        assert gone.value.disable_destination
        assert "secretpart" not in caplog.text
    finally:
        del ENVIRON[environ_url]


@pytest.mark.parametrize(
    "options",
    [
        {"token": "env:SLACK_BOT_TOKEN", "webhook_url": "env:SLACK_BOT_TOKEN", "channel": "C1"},
        {"token": "xoxb-pasted-secret-token", "channel": "C1"},
        {"token": "env:SLACK_BOT_TOKEN"},
        {"token": "env:SLACK_BOT_TOKEN", "channel": "C1", "threads": "sideways"},
        {"token": "env:NOT_SET", "channel": "C1"},
    ],
)
def test_invalid_options_are_config_errors_that_never_echo_a_token(options: dict[str, object]) -> None:
    config = DestinationConfig(name="s", kind="slack", options=options)
    with pytest.raises(ConfigError) as caught:
        SlackConnector(config, redis=Redis(), environ=ENVIRON)
    assert "xoxb-pasted" not in str(caught.value) and BOT_TOKEN not in str(caught.value)


def test_the_bot_mode_needs_redis_and_the_runtime_provides_it() -> None:
    config = DestinationConfig(
        name="s", kind="slack", options={"token": "env:SLACK_BOT_TOKEN", "channel": "C1"}
    )
    with pytest.raises(ConfigError, match="needs Redis"):
        SlackConnector(config, environ=ENVIRON)
    assert connector_class("slack").uses_redis is True
