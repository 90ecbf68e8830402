"""``/queue NAME`` with Slack's signature: the current figures from the statistics snapshot in
Redis (what the poller keeps), answered at once, ephemeral, no GWS call."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis

from bridge.config.keys import Keys
from bridge.config.statistics import StatisticsObject
from bridge.normalize.statistics import stats_events
from tests.integration.slack.conftest import ChatopsHandle
from tests.plugins.simulator import SimulatorHandle


async def keep_snapshot(redis: Redis, object_id: str, name: str, **values: float) -> None:
    obj = StatisticsObject(object_id=object_id, name=name, thresholds=["Current_In_Queue > 10"])
    reading = {statistic: (value, 1_700_000_000_000) for statistic, value in values.items()}
    _, snapshot = stats_events(obj, reading, None, source="gws-bridge", now=datetime.now(UTC))
    await redis.hset(Keys().stats, object_id, orjson.dumps(snapshot))


async def test_queue_answers_with_the_current_figures(
    chatops: ChatopsHandle, redis_url: str, simulator: SimulatorHandle
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await keep_snapshot(redis, "VQ_Support", "Support", Current_In_Queue=12, CurrMaxCallWaitingTime=125)
        await keep_snapshot(redis, "VQ_Sales", "Sales", Current_In_Queue=1)
    finally:
        await redis.aclose()
    requests_before = len(await simulator.log())
    status, body, _ = await chatops.slash("/queue", "support")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["text"] == "Support: 12 waiting"
    shown = str(body["blocks"])
    assert "*Waiting*\\n12" in shown and "*Longest wait*\\n2:05" in shown and ":red_circle:" in shown
    assert "Sales" not in shown
    status, body, _ = await chatops.slash("/queue", "")  # every queue
    assert body["text"] == "Sales: 1 waiting; Support: 12 waiting"
    status, body, _ = await chatops.slash("/queue", "billing")
    assert status == 200 and body["text"] == "No figures for queue 'billing'. Known queues: Sales, Support."
    assert len(await simulator.log()) == requests_before  # nothing reached GWS


async def test_queue_refuses_unmapped_users_and_bad_signatures(chatops: ChatopsHandle) -> None:
    status, body, _ = await chatops.slash("/queue", "support", user="U0STRANGER")
    assert status == 200 and "not linked to a GWS agent" in body["text"] and "blocks" not in body
    status, body, _ = await chatops.post(
        "/slack/commands", chatops.slash_body("/queue", "support"), secret="not-the-secret"
    )
    assert status == 401 and body["status"] == 401
    status, body, _ = await chatops.slash("/queue", "")
    assert status == 200 and body["text"].startswith("No queue figures yet")
