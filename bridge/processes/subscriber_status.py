"""What a subscriber reports about its session pool, while it runs.

Three loops, each until cancelled: the Prometheus gauges (agents held and connected, live
subscribers), the held agents' session status in Redis for the operator console
(``{prefix}:console:agents``, best effort), and a one-line pool status in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from redis.asyncio import Redis

from bridge.gws.pool import PoolStatus, SessionPool

__all__ = ["agent_status_records", "export_gauges", "log_pool_status", "publish_agent_status"]

# Logs as part of the subscriber, under the same logger name as before the split.
logger = logging.getLogger("bridge.processes.subscriber")


async def export_gauges(pool: SessionPool, interval: float = 2.0) -> None:
    """Keep the pool gauges current; they are read by the metrics thread at scrape time."""
    from prometheus_client import Gauge

    held = Gauge("gwsb_subscriber_agents_held", "Agents whose lease this subscriber holds")
    connected = Gauge("gwsb_subscriber_agents_connected", "Held agents subscribed and caught up")
    members = Gauge("gwsb_subscriber_members", "Live subscribers sharing the agents")
    while True:
        status = pool.status()
        held.set(status.owned)
        connected.set(status.connected)
        members.set(status.members)
        await asyncio.sleep(interval)


def agent_status_records(status: PoolStatus, now: float) -> dict[str, bytes]:
    """One JSON record per held agent, for the operator console (``{prefix}:console:agents``)."""
    records = {}
    for session in status.sessions:
        if session.connected:
            state = "connected"
        elif session.last_error:
            state = "failing"
        else:
            state = "recovering" if session.recoveries or session.reconnects else "connecting"
        records[session.agent] = orjson.dumps(
            {
                "agent": session.agent, "owner": status.owner, "session": state,
                "connected": session.connected, "last_message_at": session.last_message_at,
                "last_error": session.last_error, "reconnects": session.reconnects,
                "recoveries": session.recoveries, "messages": session.messages,
                "events": session.events, "at": now,
            }
        )  # fmt: skip
    return records


async def publish_agent_status(pool: SessionPool, redis: Redis, key: str, interval: float) -> None:
    """Every ``interval`` s: the held agents' session status into one Redis hash (best effort)."""
    while True:
        records = agent_status_records(pool.status(), time.time())
        if records:
            try:
                await redis.hset(key, mapping=records)  # type: ignore[arg-type]
            except Exception as exc:  # the console's view only; never stop the subscriber for it
                logger.warning("agent status not published", extra={"error": type(exc).__name__})
        await asyncio.sleep(interval)


async def log_pool_status(pool: SessionPool, interval: float) -> None:
    """Every ``interval`` s: one log line with how many agents are held, connected and failing."""
    while True:
        await asyncio.sleep(interval)
        status = pool.status()
        errors = sum(1 for session in status.sessions if not session.connected and session.last_error)
        logger.info(
            "pool status: %d of %d agents held, %d connected, %d failing, %d live subscribers",
            status.owned, status.agents_total, status.connected, errors, status.members,
            extra={"owner": status.owner, "owned": status.owned, "connected": status.connected},
        )  # fmt: skip
