"""The simulator's statistic definitions and statistic objects (seed 003, "List of statistics to be
monitored", simple mode) — defaults, or the ``[[statistics]]`` and ``[[queues]]`` tables of the
users file.

A simple-mode entry names the statistic as the API spells it (``name``) and its type
(``statisticDefinitionName``, in GWS a Configuration Manager type); the simulator knows the types in
:data:`DEFINITIONS` and computes them from its own calls and agents. ``timeRange`` (``RangeA-B``)
is the service-level threshold in seconds. A ``[[queues]]`` entry is a statistic object: ``id``,
``type`` (QUEUE, SKILL_Q or SKILL_AG; default QUEUE) and the ``agents`` whose calls and states
count for it (default: every agent).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFINITIONS",
    "OBJECT_TYPES",
    "StatObject",
    "StatisticDefinition",
    "default_objects",
    "default_statistics",
    "load_stats_config",
]

#: the statistic types (``statisticDefinitionName``) the simulator computes
DEFINITIONS = frozenset(
    {
        "TotalCallsEntered",
        "TotalCallsAnswered",
        "TotalCallsAbandoned",
        "CurrNumberWaitingCalls",
        "CurrMaxWaitingTime",
        "AverageWaitingTime",
        "ServiceFactor",
        "CurrentReadyAgents",
        "CurrentNotReadyAgents",
        "CurrentNumberLoggedInAgents",
    }
)
OBJECT_TYPES = frozenset({"AGENT", "QUEUE", "SKILL_Q", "SKILL_AG"})
_RANGE = re.compile(r"^Range(\d+)-(\d+)$")


@dataclass(frozen=True, slots=True)
class StatisticDefinition:
    """One simple-mode ``statistics.yaml`` entry."""

    name: str
    statistic_definition_name: str
    object_type: str
    notification_mode: str = "PERIODICAL"
    notification_frequency: int = 10
    time_profile: str | None = None
    time_range: str | None = None
    time_range2: str | None = None

    def service_threshold(self) -> int:
        """The right bound of ``timeRange`` in seconds (20 when absent)."""
        match = _RANGE.match(self.time_range or "")
        return int(match.group(2)) if match else 20


@dataclass(frozen=True, slots=True)
class StatObject:
    id: str
    type: str = "QUEUE"
    agents: tuple[str, ...] | None = None  # None: every agent


_DEFAULTS: list[tuple[str, str, str]] = [
    ("Total_Entered", "TotalCallsEntered", "QUEUE"),
    ("Total_Answered", "TotalCallsAnswered", "QUEUE"),
    ("Total_Abandoned", "TotalCallsAbandoned", "QUEUE"),
    ("Current_In_Queue", "CurrNumberWaitingCalls", "QUEUE"),
    ("CurrMaxCallWaitingTime", "CurrMaxWaitingTime", "QUEUE"),
    ("AverageWaitingTime", "AverageWaitingTime", "QUEUE"),
    ("ServiceLevel", "ServiceFactor", "QUEUE"),
    ("CurrentReadyAgents", "CurrentReadyAgents", "QUEUE"),
    ("CurrentNotReadyAgents", "CurrentNotReadyAgents", "QUEUE"),
    ("ServiceLevel", "ServiceFactor", "SKILL_Q"),
    ("Current_In_Queue", "CurrNumberWaitingCalls", "SKILL_Q"),
    ("CurrentReadyAgents", "CurrentReadyAgents", "SKILL_AG"),
    ("CurrentNotReadyAgents", "CurrentNotReadyAgents", "SKILL_AG"),
    ("CurrentNumberLoggedInAgents", "CurrentNumberLoggedInAgents", "SKILL_AG"),
]


def default_statistics() -> list[StatisticDefinition]:
    return [
        StatisticDefinition(name, definition, object_type, time_profile="OneDay", time_range="Range0-20")
        for name, definition, object_type in _DEFAULTS
    ]


def default_objects() -> list[StatObject]:
    """One queue (``VQ_Support``) and one skill (``Skill_Support``) over every agent."""
    return [StatObject("VQ_Support", "QUEUE"), StatObject("Skill_Support", "SKILL_AG")]


def _definition(path: Path, index: int, entry: Any) -> StatisticDefinition:
    where = f"{path}: statistics[{index}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a table")
    try:
        name, definition, object_type = (
            str(entry["name"]),
            str(entry["statisticDefinitionName"]),
            str(entry["objectType"]),
        )
    except KeyError as exc:
        raise ValueError(f"{where} lacks {exc.args[0]!r}") from None
    if definition not in DEFINITIONS:
        raise ValueError(f"{where}: unknown statisticDefinitionName {definition!r}")
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"{where}: unknown objectType {object_type!r}")
    frequency = entry.get("notificationFrequency", 10)
    if not isinstance(frequency, int) or frequency < 1:
        raise ValueError(f"{where}: notificationFrequency must be a positive integer")
    time_range = entry.get("timeRange")
    if time_range is not None and not _RANGE.match(str(time_range)):
        raise ValueError(f"{where}: timeRange must look like Range0-20")
    return StatisticDefinition(
        name,
        definition,
        object_type,
        notification_mode=str(entry.get("notificationMode", "PERIODICAL")),
        notification_frequency=frequency,
        time_profile=entry.get("timeProfile"),
        time_range=None if time_range is None else str(time_range),
        time_range2=entry.get("timeRange2"),
    )


def _object(path: Path, index: int, entry: Any) -> StatObject:
    where = f"{path}: queues[{index}]"
    if not isinstance(entry, dict) or "id" not in entry:
        raise ValueError(f"{where} needs an 'id'")
    object_type = str(entry.get("type", "QUEUE"))
    if object_type not in OBJECT_TYPES - {"AGENT"}:
        raise ValueError(f"{where}: unknown type {object_type!r}")
    agents = entry.get("agents")
    if agents is not None and not (isinstance(agents, list) and all(isinstance(a, str) for a in agents)):
        raise ValueError(f"{where}: agents must be a list of user names")
    return StatObject(str(entry["id"]), object_type, None if agents is None else tuple(agents))


def load_stats_config(path: Path | None) -> tuple[list[StatisticDefinition], list[StatObject]]:
    """The definitions and objects of the users file (defaults for a missing table or file)."""
    if path is None:
        return default_statistics(), default_objects()
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = document.get("statistics")
    queues = document.get("queues")
    statistics = (
        [_definition(path, i, e) for i, e in enumerate(entries)]
        if entries is not None
        else default_statistics()
    )
    objects = [_object(path, i, e) for i, e in enumerate(queues)] if queues is not None else default_objects()
    ids = [obj.id for obj in objects]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: queues repeat an id")
    return statistics, objects
