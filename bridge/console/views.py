"""What the console shows, read from Redis: agents, recorded events and attempts, destinations'
recent health, commands, and the overview's counters, 15-minute series and queue statistics.

Everything is read on request from what the other processes keep (nothing here is cached across
requests) and bounded by what they keep: the attempt stream, the command index, the status hash.
Values under the configured ``masked_keys`` are replaced by ``••••`` before anything leaves.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.delivery.admin import DeliveryAdmin
from bridge.delivery.recording import parse_entry
from bridge.gws.statistics import read_snapshots

__all__ = ["MASK", "ConsoleData", "EventQuery", "mask"]

MASK = "••••"
#: entries read per round trip when scanning the attempt stream backwards
_CHUNK = 1000
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


class EventQuery:
    """A search over the recorded events; every given criterion must match."""

    FIELDS = ("call_id", "interaction_id", "agent", "type", "webhook_id", "subject", "destination")

    def __init__(self, **criteria: str | None) -> None:
        self.criteria = {k: v.strip() for k, v in criteria.items() if v and v.strip()}

    def needles(self) -> list[bytes]:
        """Byte strings an entry must contain: a cheap filter before parsing it."""
        return [
            v.encode() for k, v in self.criteria.items() if k in ("call_id", "interaction_id", "webhook_id")
        ]

    def matches(self, entry: dict[str, Any]) -> bool:
        c = self.criteria
        subject = entry.get("subject") or ""
        if "call_id" in c and subject != f"call/{c['call_id']}":
            data = (entry.get("event") or {}).get("data") or {}
            if data.get("call_id") != c["call_id"]:
                return False
        if "interaction_id" in c and subject != f"interaction/{c['interaction_id']}":
            data = (entry.get("event") or {}).get("data") or {}
            if data.get("interaction_id") != c["interaction_id"]:
                return False
        if "agent" in c and entry.get("agent") != c["agent"]:
            return False
        if "type" in c and not _type_matches(entry.get("type") or "", c["type"]):
            return False
        if "webhook_id" in c and entry.get("event_id") != c["webhook_id"]:
            return False
        if "subject" in c and subject != c["subject"]:
            return False
        return not ("destination" in c and entry.get("destination") != c["destination"])


def _type_matches(value: str, pattern: str) -> bool:
    return value.startswith(pattern[:-1]) if pattern.endswith("*") else value == pattern


def group_events(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempt entries (any order) → one item per event with its attempts oldest first."""
    events: dict[str, dict[str, Any]] = {}
    for entry in entries:
        item = events.get(entry["event_id"])
        if item is None:
            item = events[entry["event_id"]] = {
                "event_id": entry["event_id"], "type": entry["type"], "subject": entry["subject"],
                "agent": entry["agent"], "time": entry["event_time"], "sequence": entry["sequence"],
                "event": entry["event"], "attempts": [],
            }  # fmt: skip
        item["attempts"].append({k: entry[k] for k in (
            "destination", "attempt", "at", "outcome", "latency_ms", "status", "error", "response_excerpt"
        )})  # fmt: skip
    for item in events.values():
        item["attempts"].sort(key=lambda a: (a["at"] or 0, a["attempt"] or 0))
        last: dict[str, str] = {}
        for attempt in item["attempts"]:
            last[attempt["destination"]] = attempt["outcome"]
        item["outcome"] = last
    return list(events.values())


class ConsoleData:
    """Reads for the admin API; one per console process."""

    def __init__(self, settings: Settings, redis: Redis, admin: DeliveryAdmin) -> None:
        self.settings = settings
        self.redis = redis
        self.admin = admin
        self.keys = settings.keys
        self.masked = frozenset(k.lower() for k in settings.console.masked_keys)

    def mask(self, value: Any) -> Any:
        return mask(value, self.masked)

    # -- recorded attempts -----------------------------------------------------------------------

    async def scan(
        self, query: EventQuery, *, limit_events: int = 100, since_ms: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, the attempt entries of up to ``limit_events`` events matching ``query``."""
        needles = query.needles()
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        high = "+"
        low = "-" if since_ms is None else f"{since_ms}-0"
        key = self.keys.console.attempts
        while True:
            rows: Any = await self.redis.xrevrange(key, max=high, min=low, count=_CHUNK)
            if not rows:
                break
            for entry_id, fields in rows:
                raw = fields.get(b"e", b"")
                if needles and not all(n in raw for n in needles):
                    continue
                entry = parse_entry(entry_id, fields)
                if not query.matches(entry):
                    continue
                if entry["event_id"] not in seen:
                    if len(seen) >= limit_events:
                        continue
                    seen.add(entry["event_id"])
                found.append(entry)
            if len(rows) < _CHUNK or (len(seen) >= limit_events and not query.criteria):
                break
            high = f"({rows[-1][0].decode()}"  # exclusive: continue below the last entry read
        return found

    async def events(self, query: EventQuery, limit: int = 100) -> list[dict[str, Any]]:
        """Matching events, newest first, each with its attempts per destination."""
        items = group_events(await self.scan(query, limit_events=limit))
        items.sort(key=lambda e: max((a["at"] or 0) for a in e["attempts"]), reverse=True)
        return [self._masked_event(e) for e in items]

    async def timeline(self, subject: str) -> list[dict[str, Any]]:
        """Every recorded event of ``subject`` (``call/<id>``, ``interaction/<id>``) in sequence order."""
        items = group_events(await self.scan(EventQuery(subject=subject), limit_events=1000))
        items.sort(key=lambda e: (str(e["sequence"] or ""), e["time"] or ""))
        return [self._masked_event(e) for e in items]

    def _masked_event(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "event": self.mask(item["event"])}

    async def destination_stats(self, minutes: int = 15) -> dict[str, dict[str, Any]]:
        """Per destination over the last ``minutes``: attempts, successes, rate, latency p50/p95."""
        since = int((time.time() - 60 * minutes) * 1000)
        rows: Any = await self.redis.xrange(
            self.keys.console.attempts, min=f"{since}-0", count=self.settings.console.recent_events
        )
        per: dict[str, dict[str, Any]] = defaultdict(lambda: {"attempts": 0, "delivered": 0, "latencies": []})
        for _, fields in rows:
            meta = orjson.loads(fields[b"m"])
            stats = per[meta["d"]]
            stats["attempts"] += 1
            if meta["o"] == "delivered":
                stats["delivered"] += 1
            stats["latencies"].append(meta["ms"])
        result = {}
        for name, stats in per.items():
            latencies = sorted(stats.pop("latencies"))
            result[name] = {
                **stats,
                "success_rate": round(stats["delivered"] / stats["attempts"], 4)
                if stats["attempts"]
                else None,
                "latency_p50_ms": latencies[len(latencies) // 2] if latencies else None,
                "latency_p95_ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
                "minutes": minutes,
            }
        return result

    async def series(self, minutes: int = 15) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Per minute over the last ``minutes``: events seen, attempts delivered and failed; and
        the same three counts over the last 60 seconds."""
        now = time.time()
        start_minute = int(now // 60) - minutes + 1
        rows: Any = await self.redis.xrange(
            self.keys.console.attempts,
            min=f"{start_minute * 60_000}-0",
            count=self.settings.console.recent_events,
        )
        buckets = [
            {"minute": (start_minute + i) * 60, "events": 0, "delivered": 0, "failed": 0}
            for i in range(minutes)
        ]
        seen: set[bytes] = set()
        recent = {"events": 0, "delivered": 0, "failed": 0}
        last_minute = int((now - 60) * 1000)
        for entry_id, fields in rows:
            millis = int(entry_id.split(b"-")[0])
            index = millis // 60_000 - start_minute
            if not 0 <= index < minutes:
                continue
            meta = orjson.loads(fields[b"m"])
            counted = [buckets[index], recent] if millis >= last_minute else [buckets[index]]
            kind = "delivered" if meta["o"] == "delivered" else "failed"
            first = meta["n"] == 1 and meta["i"].encode() not in seen
            if first:
                seen.add(meta["i"].encode())
            for bucket in counted:
                bucket[kind] += 1
                bucket["events"] += 1 if first else 0
        return buckets, recent

    # -- agents ----------------------------------------------------------------------------------

    async def agents(self) -> list[dict[str, Any]]:
        """Every configured agent: lease holder, the holder's session status, last event time."""
        names = [a.username for a in self.settings.agents]
        if not names:
            return []
        leases = await self.redis.mget([f"{self.keys.leases}agent:{n}" for n in names])
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
        recent = await self.events(EventQuery(agent=name), limit=30)
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
        series, last = await self.series()
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
