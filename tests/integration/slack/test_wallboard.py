"""The Slack wallboard against the mock Slack and a real Redis: one message per channel, updated
in place and coalesced; threshold alerts posted on their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge.config.statistics import StatisticsObject
from bridge.errors import ConfigError, RetryableDeliveryError
from bridge.events import Event
from bridge.normalize.statistics import stats_events
from connectors.slack import SlackConnector
from tests.integration.slack.conftest import CHANNEL
from tests.plugins.slack import MockSlack

Factory = Callable[..., SlackConnector]
SUPPORT = StatisticsObject(object_id="VQ_Support", name="Support", thresholds=["Current_In_Queue > 10"])
SALES = StatisticsObject(object_id="VQ_Sales", name="Sales")


class Readings:
    """Successive readings of objects, as the poller turns them into events."""

    def __init__(self) -> None:
        self.snapshots: dict[str, dict] = {}
        self.stamp = 1_700_000_000_000

    def read(self, obj: StatisticsObject, **values: float) -> list[Event]:
        self.stamp += 1000
        reading = {name: (value, self.stamp) for name, value in values.items()}
        now = datetime.now(UTC)
        events, self.snapshots[obj.object_id] = stats_events(
            obj, reading, self.snapshots.get(obj.object_id), source="gws-bridge", now=now
        )
        return events


async def deliver(slack: SlackConnector, event: Event, attempts: int = 20) -> int:
    """Send as the delivery layer would: a retryable failure is retried after its ``retry_after``."""
    for attempt in range(attempts):
        try:
            await slack.send(event)
            return attempt
        except RetryableDeliveryError as exc:
            await asyncio.sleep(exc.retry_after or 0.1)
    raise AssertionError("never delivered")


async def test_one_message_is_updated_in_place_and_updates_coalesce(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(wallboard=True, wallboard_interval=1)
    readings = Readings()
    first = readings.read(SUPPORT, Current_In_Queue=2, ServiceLevel=95, CurrMaxCallWaitingTime=30)
    sales = readings.read(SALES, Current_In_Queue=0, CurrentReadyAgents=3)
    await slack.send(first[0])
    assert len(slack_api.of("chat.postMessage")) == 1
    # five updates of Support and one of Sales within the interval: each finds the slot taken
    later = [readings.read(SUPPORT, Current_In_Queue=n, ServiceLevel=95, CurrMaxCallWaitingTime=30 + n)
             for n in range(3, 8)]  # fmt: skip
    pending = [e for events in later for e in events] + sales
    with pytest.raises(RetryableDeliveryError) as deferred:
        await slack.send(pending[0])
    assert 0 < deferred.value.retry_after <= 1
    # the delivery layer retries them all; only the newest figures reach Slack
    await asyncio.gather(*(deliver(slack, event) for event in pending))
    assert len(slack_api.of("chat.postMessage")) == 1
    updates = slack_api.of("chat.update")
    assert 1 <= len(updates) <= 2  # one per interval, not one per event
    (board,) = slack_api.messages.values()
    shown = str(board["blocks"])
    assert "Support" in shown and "Sales" in shown
    assert "*Waiting*\\n7" in shown and "*Longest wait*\\n0:37" in shown and "*Agents ready*\\n3" in shown
    assert "Sales: 0 waiting; Support: 7 waiting" == board["text"]
    # a stale event redelivered later changes nothing
    await slack.send(later[0][0])
    assert len(slack_api.of("chat.update")) == len(updates)


async def test_concurrent_retries_never_show_an_older_reading_than_the_newest(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(wallboard=True, wallboard_interval=1)
    readings = Readings()
    await slack.send(readings.read(SUPPORT, Current_In_Queue=0)[0])
    events = [readings.read(SUPPORT, Current_In_Queue=n)[0] for n in range(1, 21)]
    # workers race: every reading in flight at once, the older ones scheduled first
    await asyncio.gather(*(deliver(slack, event) for event in events))
    (board,) = slack_api.messages.values()
    assert board["text"] == "Support: 20 waiting"


async def test_a_threshold_crossing_posts_an_alert_and_marks_the_board(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory(wallboard=True, wallboard_interval=1)
    readings = Readings()
    await slack.send(readings.read(SUPPORT, Current_In_Queue=2)[0])
    updated, crossed = readings.read(SUPPORT, Current_In_Queue=12)
    await slack.send(crossed)
    alerts = slack_api.of("chat.postMessage")[1:]
    assert len(alerts) == 1 and alerts[0].body["text"] == "Support: Waiting 12 (Current_In_Queue > 10)"
    assert "thread_ts" not in alerts[0].body
    await deliver(slack, updated)
    board = slack_api.messages[
        slack_api.of("chat.postMessage")[0].body.get("ts") or next(iter(slack_api.messages))
    ]
    assert ":red_circle:" in str(board["blocks"]) and "Current_In_Queue &gt; 10" in str(board["blocks"])
    updated, cleared = readings.read(SUPPORT, Current_In_Queue=3)
    await slack.send(cleared)
    assert slack_api.of("chat.postMessage")[-1].body["text"] == "Support: Waiting back to 3"
    await deliver(slack, updated)
    assert ":large_green_circle:" in str(next(iter(slack_api.messages.values()))["blocks"])


async def test_a_deleted_board_is_posted_again(slack_factory: Factory, slack_api: MockSlack) -> None:
    slack = slack_factory(wallboard=True, wallboard_interval=1)
    readings = Readings()
    await slack.send(readings.read(SUPPORT, Current_In_Queue=1)[0])
    slack_api.messages.clear()  # someone deleted it in Slack
    await deliver(slack, readings.read(SUPPORT, Current_In_Queue=2)[0])
    assert len(slack_api.of("chat.postMessage")) == 2 and len(slack_api.messages) == 1


def test_the_wallboard_needs_the_bot_mode(slack_factory: Factory, slack_api: MockSlack) -> None:
    with pytest.raises(ConfigError, match="wallboard needs the bot mode"):
        slack_factory(webhook_url="env:SLACK_WEBHOOK", wallboard=True)


async def test_without_the_wallboard_each_update_is_a_message(
    slack_factory: Factory, slack_api: MockSlack
) -> None:
    slack = slack_factory()
    await slack.send(Readings().read(SUPPORT, Current_In_Queue=4)[0])
    (post,) = slack_api.of("chat.postMessage")
    assert post.body["text"] == "Support: 4 waiting" and CHANNEL == post.body["channel"]
