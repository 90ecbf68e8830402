"""What the worker keeps for the operator console: every delivery attempt, in a bounded stream.

One Redis stream entry per attempt (``[console] record``), appended in the transaction that
records the batch's outcomes when there is one, else in one extra pipelined round trip per
batch. Each entry has two fields: ``m``, a small JSON object (destination, event id, attempt
number, time, outcome, latency, HTTP status, error, response excerpt), and ``e``, the event's
CloudEvent JSON exactly as delivery holds it (no parse, no serialization on the hot path; the
console reads type, subject and agent from it). The stream is trimmed by length at every append
(``MAXLEN ~ recent_events``) and by age once per batch (``MINID ~ now - recent_events_age``),
so it never outgrows its bounds. The console's search and its live tail (``XREAD``) read it;
a slow reader falls behind and skips, it never slows a writer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config.console import ConsoleSettings
from bridge.config.keys import ConsoleKeys
from bridge.delivery.items import Result

__all__ = ["AttemptLog"]

logger = logging.getLogger(__name__)


class AttemptLog:
    """Appends attempts to ``{prefix}:console:attempts``."""

    def __init__(self, redis: Redis, keys: ConsoleKeys, settings: ConsoleSettings) -> None:
        self._redis = redis
        self.key = keys.attempts
        self._max = settings.recent_events
        self._age_ms = int(settings.recent_events_age * 1000)

    @classmethod
    def from_settings(cls, redis: Redis, keys: ConsoleKeys, settings: ConsoleSettings) -> AttemptLog | None:
        """An attempt log, or ``None`` when recording is off."""
        return cls(redis, keys, settings) if settings.record else None

    def add_to(self, pipe: Any, destination: str, results: Sequence[Result]) -> int:
        """Queue one ``XADD`` per attempted result (and one age trim) on ``pipe``; returns how many."""
        added = 0
        for r in results:
            if not r.attempted:
                continue
            d = r.delivery
            last = d.attempts[-1] if d.attempts and r.outcome.value != "delivered" else None
            meta = {
                "d": destination,
                "i": d.event_id,
                "n": len(d.attempts) + (1 if last is None else 0),
                "at": r.started or time.time(),
                "o": r.outcome.value,
                "ms": round(r.latency * 1000, 2),
                "st": r.status,
                "err": last.detail if last is not None else "",
                "x": r.excerpt,
            }
            fields = {"m": orjson.dumps(meta), "e": d.event_json}
            pipe.xadd(self.key, fields, maxlen=self._max, approximate=True)
            added += 1
        if added:
            pipe.xtrim(self.key, minid=f"{int(time.time() * 1000) - self._age_ms}-0", approximate=True)
        return added

    async def add(self, destination: str, results: Sequence[Result]) -> None:
        """Append in a pipeline of its own; a failure is logged, never raised (delivery goes on)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if self.add_to(pipe, destination, results):
                    await pipe.execute()
        except Exception as exc:  # the console's record is best effort; the delivery outcome is not
            logger.warning("attempts not recorded for the console", extra={"error": type(exc).__name__})


def parse_entry(entry_id: bytes | str, fields: dict[Any, Any]) -> dict[str, Any]:
    """One stream entry as the console shows it: the attempt's fields plus the event's summary.

    ``entry_id`` is the stream id (``<ms>-<n>``); the event JSON is parsed here, on the reader's side.
    """
    meta = orjson.loads(fields.get(b"m") or fields.get("m") or b"{}")
    raw = fields.get(b"e") or fields.get("e") or b"{}"
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        event = {}
    return {
        "entry": entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        "destination": meta.get("d"),
        "event_id": meta.get("i"),
        "attempt": meta.get("n"),
        "at": meta.get("at"),
        "outcome": meta.get("o"),
        "latency_ms": meta.get("ms"),
        "status": meta.get("st"),
        "error": meta.get("err") or None,
        "response_excerpt": meta.get("x") or None,
        "type": event.get("type"),
        "subject": event.get("subject"),
        "agent": event.get("partitionkey"),
        "event_time": event.get("time"),
        "sequence": event.get("sequence"),
        "event": event,
    }
