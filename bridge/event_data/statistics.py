"""Statistics (seed 003, Statistics API): what the poller reads from ``GET /api/v1/stats/{objectId}``."""

from __future__ import annotations

from typing import Literal

from bridge.event_data.base import EventData

__all__ = ["StatsThresholdCrossed", "StatsUpdated"]


class StatsUpdated(EventData):
    """A statistics object's figures changed since the last read (one event per object per read)."""

    subject_pattern = r"^stats/.+$"

    object_id: str
    """The queue, skill or agent id (``[[statistics]] object_id``)."""
    name: str
    """Its display name (``[[statistics]] name``, default the id)."""
    object_type: Literal["QUEUE", "SKILL_Q", "SKILL_AG", "AGENT"]
    """The object type of its statistic definitions."""
    values: dict[str, float]
    """Every statistic's latest value (the full set)."""
    changed: dict[str, float]
    """Only the statistics whose value changed since the previous event (all of them on the first)."""
    times: dict[str, int]
    """When GWS computed each value (epoch milliseconds)."""


class StatsThresholdCrossed(EventData):
    """A statistic crossed a configured threshold: breached, or cleared once back past its hysteresis."""

    subject_pattern = r"^stats/.+$"

    object_id: str
    """The queue, skill or agent id."""
    name: str
    """Its display name."""
    statistic: str
    """The statistic, e.g. ``Current_In_Queue``."""
    value: float
    """The value that crossed."""
    threshold: str
    """The configured threshold, e.g. ``Current_In_Queue > 10``."""
    breached: bool
    """True: the value passed the line; false: it came back past the line by the hysteresis."""
    hysteresis: float
    """How far back past the line a value must come to clear."""
