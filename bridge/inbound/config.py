"""Configuration of the inbound command receiver."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["InboundSettings"]


class InboundSettings(BaseModel):
    """Where the receiver listens and whom it accepts."""

    model_config = {"extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
