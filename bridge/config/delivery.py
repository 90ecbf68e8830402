"""Configuration of destinations, routes and delivery behaviour.

Three TOML sections: ``[delivery]`` (how the pipeline retries, batches and
gives up), ``[[destinations]]`` (where events go) and ``[[routes]]`` (which
events go where). Cross-section checks (a route naming an unknown destination,
an unknown connector kind) live in :mod:`bridge.delivery.validation`, because a
single section cannot see the others.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

__all__ = ["DeliverySettings", "DestinationConfig", "HealthPolicy", "RouteConfig"]

# Standard Webhooks / Svix: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]

_SECRET_PREFIXES = ("env:", "file:", "whsec_")


class HealthPolicy(BaseModel):
    """When a failing destination is switched off automatically."""

    model_config = {"extra": "forbid", "frozen": True}

    failure_threshold: int = Field(
        default=100, ge=1, description="failed attempts in a row (within the window) that disable it"
    )
    failure_window: float = Field(
        default=3600.0, gt=0, description="seconds; older failures do not count towards the threshold"
    )
    failure_min_span: float = Field(
        default=300.0,
        ge=0,
        description="seconds the run of failures must have lasted, so one bad burst does not disable",
    )


class DeliverySettings(BaseModel):
    """How the delivery layer retries, batches and gives up."""

    model_config = {"extra": "forbid", "frozen": True}

    retry_schedule: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE),
        description="seconds to wait after the 1st, 2nd, … failed attempt; its length + 1 = attempts",
    )
    retry_jitter: float = Field(default=0.2, ge=0, lt=1, description="± fraction applied to each delay")
    max_retry_after: float = Field(
        default=3600.0, ge=0, description="cap (seconds) on a receiver's Retry-After"
    )
    batch_size: int = Field(default=100, ge=1, le=5000, description="events per Celery task")
    task_deadline: float = Field(
        default=60.0, gt=0, description="seconds a task may spend; unfinished sends are retried"
    )
    visibility_timeout: float = Field(
        default=300.0, gt=0, description="seconds before Redis hands an unacknowledged task to another worker"
    )
    journal_timeout: float | None = Field(
        default=None,
        gt=0,
        description=(
            "seconds an unordered batch may stay unfinished (queued or running) before the workers'"
            " sweep publishes it again; default: visibility_timeout"
        ),
    )
    retry_poll_interval: float = Field(
        default=0.5, gt=0, description="seconds between scans of the due-retry schedule"
    )
    retry_claim_lease: float = Field(
        default=60.0, gt=0, description="seconds a claimed retry stays invisible before it is claimed again"
    )
    queue: str = Field(default="gwsb.delivery", min_length=1, description="Celery queue name")
    key_prefix: str = Field(default="gwsb", min_length=1, description="prefix of every Redis key we own")
    health: HealthPolicy = Field(default_factory=HealthPolicy)

    @field_validator("retry_schedule")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must be >= 0 seconds")
        return value

    @model_validator(mode="after")
    def _no_task_outlives_visibility(self) -> DeliverySettings:
        # The Celery/Redis trap: a task still running when the visibility timeout
        # expires is handed to a second worker and executed twice.
        if self.visibility_timeout <= self.task_deadline * 1.5:
            raise ValueError(
                f"visibility_timeout ({self.visibility_timeout:g}s) must exceed 1.5 x task_deadline "
                f"({self.task_deadline:g}s), or running tasks would be redelivered"
            )
        if self.journal_timeout is not None and self.journal_timeout <= self.task_deadline * 1.5:
            raise ValueError(
                f"journal_timeout ({self.journal_timeout:g}s) must exceed 1.5 x task_deadline "
                f"({self.task_deadline:g}s), or running batches would be published again"
            )
        return self

    @property
    def batch_lease(self) -> float:
        """Seconds a journaled batch may go unfinished before the sweep re-publishes it."""
        return self.journal_timeout if self.journal_timeout is not None else self.visibility_timeout


class DestinationConfig(BaseModel):
    """A place events are delivered to (a CRM webhook, a Slack channel, …).

    ``secrets`` are references resolved when the connector starts: ``env:NAME``,
    ``file:PATH`` or, for tests only, a literal ``whsec_…``. Connector-specific
    settings that have no field here go in ``options``.
    """

    # hide_input_in_errors: a validation error must never echo a pasted secret.
    model_config = {"extra": "forbid", "frozen": True, "hide_input_in_errors": True}

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str = Field(min_length=1)
    url: str | None = None
    secrets: list[str] = Field(default_factory=list, description="signing secret references")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers")
    timeout: float = Field(default=10.0, gt=0, description="seconds per request, all included")
    connect_timeout: float = Field(default=5.0, gt=0, description="seconds to open a connection")
    max_in_flight: int = Field(default=64, ge=1, description="concurrent requests per worker process")
    rate_limit: float | None = Field(
        default=None, gt=0, description="events per second, shared by all workers (None: unlimited)"
    )
    rate_burst: int = Field(default=10, ge=1, description="token bucket size")
    ordered: bool = Field(default=False, description="deliver each subject's events in sequence order")
    health: HealthPolicy | None = Field(default=None, description="overrides [delivery.health]")
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("secrets")
    @classmethod
    def _secret_references(cls, value: list[str]) -> list[str]:
        for index, ref in enumerate(value):
            if not ref.startswith(_SECRET_PREFIXES):
                # Never echo the value: it may be a pasted secret.
                raise ValueError(f"secrets[{index}] must start with env:, file: or whsec_")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


class RouteConfig(BaseModel):
    """Which events go to which destinations.

    An event matches when its type matches one of ``events`` (globs such as
    ``call.*``) and every filter given matches (each is a list of globs, any of
    which may match). ``user_data`` maps a userData key to globs of its value.
    """

    model_config = {"extra": "forbid", "frozen": True}

    events: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    destinations: list[str] = Field(min_length=1)
    agents: list[str] | None = None
    queues: list[str] | None = None
    channels: list[str] | None = None
    user_data: dict[str, list[str]] | None = None
