"""Configuration of destinations, routes and delivery behaviour."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["DeliverySettings", "DestinationConfig", "RouteConfig"]


class DeliverySettings(BaseModel):
    """How the delivery layer retries, batches and gives up."""

    model_config = {"extra": "forbid"}


class DestinationConfig(BaseModel):
    """A place events are delivered to (a CRM webhook, a Slack channel, …)."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1)
    kind: str
    url: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class RouteConfig(BaseModel):
    """Which events go to which destinations."""

    model_config = {"extra": "forbid"}

    events: list[str] = Field(default_factory=lambda: ["*"])
    destinations: list[str] = Field(default_factory=list)
