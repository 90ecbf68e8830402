"""The console's reads of the attempt stream: recorded events, their attempts, and their rates.

The worker appends one entry per delivery attempt (:mod:`bridge.delivery.recording`); this reads
it backwards in chunks, groups the entries by event, and counts them per destination and per
minute. Events leave here masked (the console's ``masked_keys``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.delivery.recording import parse_entry

__all__ = ["AttemptStream", "EventQuery", "group_events"]

#: entries read per round trip when scanning the attempt stream backwards
_CHUNK = 1000


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


class AttemptStream:
    """Reads the attempt stream ``key`` (at most ``recent_events`` entries per count); ``mask``
    hides the configured keys of an event before it leaves."""

    def __init__(self, redis: Redis, key: str, *, recent_events: int, mask: Callable[[Any], Any]) -> None:
        self._redis = redis
        self._key = key
        self._recent_events = recent_events
        self._mask = mask

    async def scan(
        self, query: EventQuery, *, limit_events: int = 100, since_ms: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, the attempt entries of up to ``limit_events`` events matching ``query``."""
        needles = query.needles()
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        high = "+"
        low = "-" if since_ms is None else f"{since_ms}-0"
        key = self._key
        while True:
            rows: Any = await self._redis.xrevrange(key, max=high, min=low, count=_CHUNK)
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
        return {**item, "event": self._mask(item["event"])}

    async def destination_stats(self, minutes: int = 15) -> dict[str, dict[str, Any]]:
        """Per destination over the last ``minutes``: attempts, successes, rate, latency p50/p95."""
        since = int((time.time() - 60 * minutes) * 1000)
        rows: Any = await self._redis.xrange(self._key, min=f"{since}-0", count=self._recent_events)
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
        rows: Any = await self._redis.xrange(
            self._key,
            min=f"{start_minute * 60_000}-0",
            count=self._recent_events,
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
