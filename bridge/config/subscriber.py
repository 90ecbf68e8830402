"""``[subscriber]``: how a subscriber process holds its share of the agents and hands events on.

Every option has a command-line flag of the same name (``--lease-ttl`` for ``lease_ttl``), which
overrides the file for one run.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["SubscriberSettings"]


class SubscriberSettings(BaseModel):
    """The subscriber's share of the agents, its batching and its observability."""

    model_config = {"extra": "forbid", "frozen": True}

    capacity: int | None = Field(
        default=None, ge=0, description="most agents this process holds (none = all)"
    )
    lease_ttl: float = Field(
        default=15.0, gt=0, description="seconds after which a dead subscriber's agents are taken over"
    )
    channels: list[str] = Field(
        default_factory=list,
        description="media to log agents in on with StartContactCenterSession (empty = don't)",
    )
    max_concurrent_starts: int = Field(
        default=32, ge=1, description="sessions logging in and handshaking at the same time"
    )
    login_rate: float = Field(
        default=50.0,
        ge=0,
        description="log-ins per second this process makes to GWS at most, on average (0 = unpaced)",
    )
    login_burst: int = Field(default=10, ge=1, description="log-ins at once after a quiet spell")
    batch_max_events: int = Field(
        default=500,
        ge=1,
        description="most events handed to the delivery queue in one enqueue (1 = no grouping)",
    )
    batch_max_delay: float = Field(
        default=0.010, ge=0, description="seconds a message's events wait for others to share an enqueue with"
    )
    status_interval: float = Field(
        default=60.0, ge=0, description="seconds between pool status lines (0 = never)"
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="serve Prometheus metrics on this port (none = don't)"
    )
    metrics_host: str = Field(default="127.0.0.1", description="metrics bind address")
