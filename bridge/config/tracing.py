"""``[tracing]``: OpenTelemetry traces of the subscriber, the workers and the receiver, over OTLP.

Off by default; ``enabled = true`` is the one switch. Each process then exports its spans over
OTLP/HTTP (protobuf) to ``endpoint``, as service ``<service_name>-<role>`` (``-subscriber``,
``-worker``, ``-receiver``). See docs/operations.md (*Tracing*).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["TracingSettings"]


class TracingSettings(BaseModel):
    """Whether and where the processes send their spans."""

    model_config = {"extra": "forbid", "frozen": True}

    enabled: bool = Field(default=False, description="export spans over OTLP (off: no span is made)")
    endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces",
        pattern=r"^https?://",
        description="the collector's OTLP/HTTP traces URL",
    )
    service_name: str = Field(
        default="gws-bridge", min_length=1, description="service.name prefix; the process role is appended"
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of new traces recorded (a traced parent decides for its children)",
    )
    timeout: float = Field(default=10.0, gt=0, description="seconds an export may take")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="HTTP headers of every export (e.g. an API key: env:NAME / file:PATH references)",
    )
