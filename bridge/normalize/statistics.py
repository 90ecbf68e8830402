"""Statistics API replies → ``stats.updated`` and ``stats.threshold_crossed`` events (pure).

:func:`parse_latest` reads ``GET /api/v1/stats/{objectId}`` (``{objectId, statusCode, statistics:
[{statistic, value, time}]}``, seed 003). :func:`stats_events` compares a reading with the object's
previous snapshot (a JSON-able dict the poller keeps in Redis, so another subscriber taking over
carries on from it) and returns the events and the new snapshot:

- one ``stats.updated`` when any value changed (``changed`` holds those, ``values`` the full set);
  none when nothing did. Its id is a digest of the object and the reading, so the same GWS values
  read twice (by two processes during a takeover) give the same id;
- one ``stats.threshold_crossed`` per threshold whose state changed: breached when the value
  passes the line, cleared only once it is back past it by the hysteresis (no flapping).

Subject ``stats/<objectId>``, partition key the object id, sequence one above the snapshot's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.config.statistics import StatisticsObject
from bridge.events import Event, EventType
from bridge.normalize.context import digest, event_id

__all__ = ["Reading", "parse_latest", "stats_events"]

#: statistic name -> (value, time in epoch ms)
Reading = dict[str, tuple[float, int]]


def parse_latest(body: Any, wanted: list[str] | None = None) -> Reading:
    """The numeric statistics of a latest-values reply (only ``wanted`` ones, when given)."""
    reading: Reading = {}
    items = body.get("statistics") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name, value, stamp = item.get("statistic"), item.get("value"), item.get("time")
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if wanted and name not in wanted:
            continue
        reading[name] = (value, stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else 0)
    return reading


def _event(
    event_type: EventType, obj: StatisticsObject, data: dict[str, Any], change: str, sequence: int,
    *, source: str, now: datetime,
) -> Event:  # fmt: skip
    subject = f"stats/{obj.object_id}"
    return Event(
        id=event_id(f"{obj.object_id}\x1f{subject}\x1f{event_type.value}\x1f{change}"),
        source=f"{source}/statistics",
        type=event_type.value,
        subject=subject,
        time=now,
        data=data,
        sequence=sequence,
        partitionkey=obj.object_id,
    )


def stats_events(
    obj: StatisticsObject, reading: Reading, previous: dict[str, Any] | None, *, source: str, now: datetime
) -> tuple[list[Event], dict[str, Any]]:
    """The events of one reading of ``obj`` and the snapshot to keep (see the module docstring)."""
    previous = previous or {}
    old_values: dict[str, Any] = previous.get("values") or {}
    old_breached = set(previous.get("breached") or [])
    sequence = int(previous.get("sequence") or 0)
    values = {name: value for name, (value, _) in reading.items()}
    times = {name: stamp for name, (_, stamp) in reading.items()}
    changed = {name: value for name, value in values.items() if old_values.get(name) != value}
    events: list[Event] = []
    about = {"object_id": obj.object_id, "name": obj.label}
    if changed:
        sequence += 1
        data: dict[str, Any] = {
            **about,
            "object_type": obj.type,
            "values": values,
            "changed": changed,
            "times": times,
        }
        change = digest({"values": values, "times": times})
        events.append(_event(EventType.STATS_UPDATED, obj, data, change, sequence, source=source, now=now))
    breached: set[str] = set()
    for threshold in obj.thresholds:
        label = threshold.label
        value = values.get(threshold.statistic)
        was = label in old_breached
        if value is None:
            if was:
                breached.add(label)  # not read this time: keep its state
            continue
        now_breached = threshold.breached(value, was)
        if now_breached:
            breached.add(label)
        if now_breached != was:
            sequence += 1
            crossing: dict[str, Any] = {
                **about,
                "statistic": threshold.statistic,
                "value": value,
                "threshold": label,
                "breached": now_breached,
                "hysteresis": threshold.hysteresis,
            }
            change = digest(
                {"threshold": label, "breached": now_breached, "time": times[threshold.statistic]}
            )
            events.append(
                _event(
                    EventType.STATS_THRESHOLD_CROSSED, obj, crossing, change, sequence, source=source, now=now
                )
            )
    snapshot = {
        **about,
        "object_type": obj.type,
        "values": values,
        "times": times,
        "breached": sorted(breached),
        "sequence": sequence,
        "read_at": int(now.timestamp() * 1000),
    }
    return events, snapshot
