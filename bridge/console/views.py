"""What the console shows, read from Redis: agents, recorded events and attempts, destinations'
recent health, commands, and the overview's counters, 15-minute series and queue statistics
(the attempt stream's reads: :mod:`bridge.console.attempts`).

Everything is read on request from what the other processes keep (nothing here is cached across
requests) and bounded by what they keep: the attempt stream, the command index, the status hash.
Values under the configured ``masked_keys`` are replaced by ``••••`` before anything leaves.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.console.attempts import AttemptStream, EventQuery
from bridge.delivery.admin import DeliveryAdmin
from bridge.gws.leases import lease_key
from bridge.gws.statistics import read_snapshots

__all__ = ["MASK", "ConsoleData", "mask"]

MASK = "••••"
#: agent status records older than this many intervals are shown as stale
_STALE_INTERVALS = 3


def mask(value: Any, keys: frozenset[str]) -> Any:
    """``value`` with every dict entry whose key (case-insensitive) is in ``keys`` masked, at any depth."""
    if not keys:
        return value
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and k.lower() in keys else mask(v, keys)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, keys) for v in value]
    return value


class ConsoleData:
    """Reads for the admin API; one per console process."""

    def __init__(self, settings: Settings, redis: Redis, admin: DeliveryAdmin) -> None:
        self.settings = settings
        self.redis = redis
        self.admin = admin
        self.keys = settings.keys
        self.masked = frozenset(k.lower() for k in settings.console.masked_keys)
        #: the recorded events and attempts, and their rates
        self.attempts = AttemptStream(
            redis, self.keys.console.attempts, recent_events=settings.console.recent_events, mask=self.mask
        )

    def mask(self, value: Any) -> Any:
        return mask(value, self.masked)

    # -- agents ----------------------------------------------------------------------------------

    async def agents(self) -> list[dict[str, Any]]:
        """Every configured agent: lease holder, the holder's session status, last event time."""
        names = [a.username for a in self.settings.agents]
        if not names:
            return []
        leases = await self.redis.mget([lease_key(self.keys.leases, n) for n in names])
        statuses = await self.redis.hmget(self.keys.console.agents, names)
        interval = self.settings.console.agent_status_interval or 5.0
        now = time.time()
        rows = []
        for name, lease, raw in zip(names, leases, statuses, strict=True):
            status = orjson.loads(raw) if raw else {}
            holder = lease.decode() if isinstance(lease, bytes) else lease
            fresh = bool(status) and now - float(status.get("at", 0)) <= _STALE_INTERVALS * interval
            session = status.get("session") if fresh and status.get("owner") == holder else None
            rows.append({
                "agent": name,
                "lease_holder": holder,
                "session": session or ("unheld" if holder is None else "unknown"),
                "connected": bool(fresh and status.get("connected")),
                "last_error": status.get("last_error") if fresh else None,
                "last_message_at": status.get("last_message_at"),
                "status_at": status.get("at"),
                "reconnects": status.get("reconnects"),
                "events": status.get("events"),
            })  # fmt: skip
        return rows

    async def agent(self, name: str) -> dict[str, Any] | None:
        """One agent: its row, its current state and calls (the state store), its recent events."""
        rows = [row for row in await self.agents() if row["agent"] == name]
        if not rows:
            return None
        stored: Any = await self.redis.hgetall(self.keys.state + name)
        subjects: dict[str, Any] = {}
        for field, value in stored.items():
            text = field.decode()
            if text.startswith("v:"):
                try:
                    subjects[text[2:]] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    continue
        calls = {s: v for s, v in subjects.items() if s.startswith("call/")}
        interactions = {s: v for s, v in subjects.items() if s.startswith("interaction/")}
        state = {s: v for s, v in subjects.items() if not s.startswith(("call/", "interaction/"))}
        recent = await self.attempts.events(EventQuery(agent=name), limit=30)
        return {
            **rows[0],
            "state": self.mask(state),
            "calls": self.mask(calls),
            "interactions": self.mask(interactions),
            "recent_events": recent,
        }

    # -- commands --------------------------------------------------------------------------------

    async def commands(
        self, *, limit: int = 100, agent: str | None = None, client: str | None = None
    ) -> list[dict[str, Any]]:
        """The most recent commands (the receiver's status records), newest first."""
        ids: Any = await self.redis.zrevrange(self.keys.inbound.command_index, 0, max(limit * 4, limit) - 1)
        if not ids:
            return []
        records = await self.redis.mget([self.keys.inbound.command(i.decode()) for i in ids])
        rows = []
        for raw in records:
            if raw is None:
                continue  # expired with its idempotency TTL
            record = orjson.loads(raw)
            if (agent and record.get("agent") != agent) or (client and record.get("client") != client):
                continue
            rows.append(self.mask(record))
            if len(rows) >= limit:
                break
        return rows

    # -- overview --------------------------------------------------------------------------------

    async def overview(self) -> dict[str, Any]:
        agents = await self.agents()
        series, last = await self.attempts.series()
        rows = await self.admin.destination_rows()
        depth, _ = await self.admin.retry_depths()
        return {
            "agents": {
                "configured": len(agents),
                "connected": sum(1 for a in agents if a["connected"]),
                "failing": sum(1 for a in agents if a["session"] == "failing"),
                "unheld": sum(1 for a in agents if a["session"] == "unheld"),
            },
            "events_per_s": round(last["events"] / 60, 2),
            "deliveries_per_s": round(last["delivered"] / 60, 2),
            "failures_last_minute": last["failed"],  # the last 60 seconds
            "dead_letters": await self.admin.letters.count(),
            "retries_scheduled": depth,
            "destinations": {
                "configured": len(rows),
                "disabled": sum(1 for r in rows if r["state"] == "disabled"),
            },
            "series": series,
            "recording": self.settings.console.record,
            "statistics": await self.statistics(),
        }

    async def statistics(self) -> list[dict[str, Any]]:
        """The ``[[statistics]]`` objects' latest figures (the poller's snapshots), in config order."""
        snapshots = await read_snapshots(self.redis, self.keys)
        order = {obj.object_id: i for i, obj in enumerate(self.settings.statistics)}
        rows = [
            {
                "object_id": object_id,
                "name": snapshot.get("name") or object_id,
                "values": snapshot.get("values") or {},
                "breached": snapshot.get("breached") or [],
            }
            for object_id, snapshot in snapshots.items()
        ]
        return sorted(rows, key=lambda row: (order.get(row["object_id"], len(order)), row["object_id"]))
