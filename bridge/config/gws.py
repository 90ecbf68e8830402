"""Configuration of the GWS connection and of the agents the bridge acts for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator

from bridge.config.secret_refs import read_secret, unresolved
from bridge.errors import ConfigError

__all__ = ["AgentConfig", "GwsSettings"]


class GwsSettings(BaseModel):
    """Where GWS is and how to talk to it."""

    model_config = {"extra": "forbid"}

    base_url: str = Field(default="http://127.0.0.1:8090", description="GWS base URL, no /api/v2")
    verify_tls: bool = True
    ca_file: str | None = Field(default=None, description="PEM bundle to verify GWS's certificate with")
    request_timeout: float = Field(default=10.0, gt=0, description="seconds per REST request")
    get_retries: int = Field(default=3, ge=0, le=10, description="retries of a GET on 503/connection errors")
    retry_backoff: float = Field(default=0.2, gt=0, description="first retry delay, seconds (doubles)")
    retry_backoff_cap: float = Field(default=2.0, gt=0, description="longest retry delay, seconds")
    disposition_key: str | None = Field(
        default="DispositionCode",
        description="userData key SetCallDisposition writes; empty = the key configured in GWS",
    )


class AgentConfig(BaseModel):
    """One agent whose GWS session the bridge holds.

    The password is given inline (``password``), or read when the settings are loaded from an
    environment variable (``password_env``) or a file (``password_file``, first line). After
    validation ``password`` is always set; the variable or file name is kept, the value is a
    ``SecretStr`` and never appears in a message.
    """

    model_config = {"extra": "forbid"}

    username: str = Field(min_length=1)
    password: SecretStr
    password_env: str | None = None
    password_file: Path | None = None
    groups: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _resolve_password(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        sources = [key for key in ("password", "password_env", "password_file") if data.get(key)]
        if len(sources) > 1:
            raise ValueError(f"give one of password, password_env, password_file (got {', '.join(sources)})")
        for key, prefix in (("password_env", "env:"), ("password_file", "file:")):
            if data.get(key) and unresolved():
                return {**data, "password": f"(unresolved {prefix}{data[key]})"}
            if data.get(key):
                try:
                    value = read_secret(f"{prefix}{data[key]}", what=key, trim="first_line")
                except ConfigError as exc:
                    raise ValueError(str(exc)) from None
                return {**data, "password": value}
        return data
