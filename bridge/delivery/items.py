"""One event on its way to one destination, and the retry schedule it follows.

A :class:`QueuedDelivery` travels as compact JSON (``to_wire``) in Celery task
arguments, in the due-retry schedule, in FIFO queues, in parked lists and in the
dead-letter store. It carries its own attempt log, so a dead letter says what
happened at every attempt.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import orjson

from bridge.events import Event

__all__ = ["AttemptRecord", "Outcome", "QueuedDelivery", "Result", "next_retry_delay"]


class Outcome(str, Enum):
    """What one attempt (or one batch step) did with a delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"  # failed, another attempt is scheduled
    DEAD = "dead"  # failed permanently or ran out of attempts: dead-lettered
    DEFERRED = "deferred"  # not attempted (rate limit, deadline); rescheduled, no attempt used
    PARKED = "parked"  # destination disabled: kept until it is enabled again


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt: when, how it ended, and why (an HTTP status or an error, never a secret)."""

    at: float
    outcome: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "outcome": self.outcome, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """``event_json`` for ``destination``, after ``attempts`` tries, first queued at ``queued_at``.

    ``traceparent`` is the event's (tracing on): the parent of each attempt's span.
    """

    destination: str
    event_json: str
    event_id: str
    subject: str
    sequence: int
    queued_at: float
    attempts: tuple[AttemptRecord, ...] = field(default=())
    traceparent: str | None = None

    @classmethod
    def for_event(
        cls, event: Event, destination: str, *, now: float | None = None, event_json: str | None = None
    ) -> QueuedDelivery:
        """A fresh delivery of ``event`` (no attempts yet); ``event_json`` if already serialized."""
        return cls(
            destination=destination,
            event_json=event.to_json().decode() if event_json is None else event_json,
            event_id=event.id,
            subject=event.subject,
            sequence=event.sequence,
            queued_at=time.time() if now is None else now,
            traceparent=event.traceparent,
        )

    def event(self) -> Event:
        """The event itself; raises ``pydantic.ValidationError`` if the stored JSON is corrupt."""
        return Event.from_json(self.event_json)

    def with_attempt(self, record: AttemptRecord) -> QueuedDelivery:
        return replace(self, attempts=(*self.attempts, record))

    def fresh(self) -> QueuedDelivery:
        """The same event with an empty attempt log (a replay starts over)."""
        return replace(self, attempts=(), queued_at=time.time())

    def to_wire(self) -> str:
        wire: dict[str, Any] = {
            "d": self.destination,
            "e": self.event_json,
            "i": self.event_id,
            "s": self.subject,
            "q": self.sequence,
            "t": self.queued_at,
            "a": [[r.at, r.outcome, r.detail] for r in self.attempts],
        }
        if self.traceparent is not None:
            wire["p"] = self.traceparent
        return orjson.dumps(wire).decode()

    @classmethod
    def from_wire(cls, wire: str | bytes) -> QueuedDelivery:
        """Parse :meth:`to_wire` output; raises ``ValueError``/``KeyError`` on garbage."""
        raw = orjson.loads(wire)
        return cls(
            destination=raw["d"],
            event_json=raw["e"],
            event_id=raw["i"],
            subject=raw["s"],
            sequence=int(raw["q"]),
            queued_at=float(raw["t"]),
            attempts=tuple(AttemptRecord(float(a[0]), str(a[1]), str(a[2])) for a in raw["a"]),
            traceparent=raw.get("p"),
        )


def next_retry_delay(
    attempts_made: int,
    schedule: list[float],
    *,
    jitter: float,
    retry_after: float | None = None,
    max_retry_after: float = 3600.0,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` when attempts are used up.

    ``attempts_made`` counts attempts already made (>= 1). The first attempt is
    immediate; after the n-th failure the wait is ``schedule[n-1]`` ± ``jitter``.
    A receiver's ``retry_after`` replaces the scheduled wait (capped at
    ``max_retry_after``) but never grants extra attempts.
    """
    if attempts_made < 1:
        return 0.0
    if attempts_made > len(schedule):
        return None
    if retry_after is not None:
        return min(max(retry_after, 0.0), max_retry_after)
    delay = schedule[attempts_made - 1]
    if jitter:
        delay *= (rng or random).uniform(1 - jitter, 1 + jitter)
    return delay


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one delivery in this task."""

    delivery: QueuedDelivery  # with this attempt appended when one was made
    outcome: Outcome
    due: float = 0.0  # RETRY / DEFERRED: when to try again
    reason: str = ""
    disable: bool = False  # the connector asked to disable the destination
    attempted: bool = True
    # for the console (bridge.delivery.recording): when the attempt began, how long it took, the
    # HTTP status (when the connector reports one) and the start of the receiver's answer on failure
    started: float = 0.0
    latency: float = 0.0
    status: int | None = None
    excerpt: str = ""
