"""``[[statistics]]``: the GWS statistic objects the subscriber polls (seed 003, Statistics API).

Each entry is one object (a queue, skill or agent id), the statistics wanted from it (empty = every
one GWS returns), how often to read it, and thresholds such as ``"Current_In_Queue > 10"`` or
``"ServiceLevel < 80"``. A threshold is crossed when the value passes the line and cleared only
when it comes back by ``hysteresis`` (``"ServiceLevel < 80 hysteresis 5"``; default 10% of the
line, at least 1), so a value hovering at the line does not flap.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

__all__ = ["StatisticsObject", "Threshold"]

_THRESHOLD = re.compile(
    r"^\s*(?P<statistic>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)"
    r"(?:\s+hysteresis\s+(?P<hysteresis>\d+(?:\.\d+)?))?\s*$"
)


class Threshold(BaseModel):
    """``statistic op value`` with the hysteresis that clears it."""

    model_config = {"extra": "forbid", "frozen": True}

    statistic: str
    op: Literal[">", ">=", "<", "<="]
    value: float
    hysteresis: float = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        match = _THRESHOLD.match(data)
        if match is None:
            raise ValueError(
                f"threshold {data!r} must look like 'Current_In_Queue > 10' (optionally 'hysteresis 2')"
            )
        value = float(match["value"])
        hysteresis = match["hysteresis"]
        return {
            "statistic": match["statistic"],
            "op": match["op"],
            "value": value,
            "hysteresis": float(hysteresis) if hysteresis is not None else max(1.0, abs(value) / 10),
        }

    @property
    def label(self) -> str:
        """``Current_In_Queue > 10`` (the value without a needless ``.0``)."""
        return f"{self.statistic} {self.op} {self.value:g}"

    def breached(self, value: float, was_breached: bool) -> bool:
        """Whether the threshold is breached after reading ``value``: past the line to become
        breached, back by ``hysteresis`` to clear."""
        above = self.op in (">", ">=")
        if not was_breached:
            if self.op == ">":
                return value > self.value
            if self.op == ">=":
                return value >= self.value
            if self.op == "<":
                return value < self.value
            return value <= self.value
        if above:
            return value > self.value - self.hysteresis
        return value < self.value + self.hysteresis


class StatisticsObject(BaseModel):
    """One statistic object the subscriber reads with ``GET /api/v1/stats/{object_id}``."""

    model_config = {"extra": "forbid", "frozen": True}

    object_id: str = Field(min_length=1, description="the queue, skill or agent id GWS knows it by")
    name: str | None = Field(
        default=None, description="what the wallboard and /queue call it (default the id)"
    )
    type: Literal["QUEUE", "SKILL_Q", "SKILL_AG", "AGENT"] = "QUEUE"
    statistics: list[str] = Field(default_factory=list, description="statistics kept (empty = all)")
    interval: float = Field(default=10.0, ge=1, description="seconds between reads")
    thresholds: list[Threshold] = Field(default_factory=list)
    user: str | None = Field(
        default=None, description="the [[agents]] user the poller reads as (default the first agent)"
    )

    @field_validator("object_id")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value or "?" in value:
            raise ValueError("object_id cannot contain '/' or '?'")
        return value

    @property
    def label(self) -> str:
        return self.name or self.object_id
