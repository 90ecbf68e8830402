"""Configuration of the GWS connection and of the agents the bridge acts for."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

__all__ = ["AgentConfig", "GwsSettings"]


class GwsSettings(BaseModel):
    """Where GWS is and how to talk to it."""

    model_config = {"extra": "forbid"}

    base_url: str = Field(default="http://127.0.0.1:8090", description="GWS base URL, no /api/v2")
    verify_tls: bool = True
    request_timeout: float = Field(default=10.0, gt=0, description="seconds per REST request")


class AgentConfig(BaseModel):
    """One agent whose GWS session the bridge holds."""

    model_config = {"extra": "forbid"}

    username: str = Field(min_length=1)
    password: SecretStr
    groups: list[str] = Field(default_factory=list)
