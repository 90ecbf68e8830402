"""``[console]``: the operator console (``gws-bridge console``) and what the bridge records for it.

Operators sign in with an admin API key; only its SHA-256 hash is stored (``sha256:<hex>``, the
same form as inbound client keys: :func:`bridge.config.inbound.hash_api_key`). A key's ``role`` is
``viewer`` (read everything, change nothing) or ``operator`` (also replay, purge, enable, disable
and send test events). ``name`` is who the key belongs to: every operator action is logged with it.

The recording options are read by the other processes too: the worker appends every delivery
attempt to a bounded Redis stream (``record``, ``recent_events``, ``recent_events_age``), the
subscriber publishes a small status record per agent every ``agent_status_interval`` seconds,
and the receiver keeps an index of its ``recent_commands``.
"""

from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, Field, field_validator, model_validator

__all__ = ["DEFAULT_CONSOLE_PORT", "ConsoleKey", "ConsoleRole", "ConsoleSettings"]

DEFAULT_CONSOLE_PORT = 8081  # not the simulator's 8090 nor the receiver's 8080

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


class ConsoleRole(str, Enum):
    """What a console key may do."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class ConsoleKey(BaseModel):
    """One admin API key: whose it is, its hash, and its role."""

    model_config = {"extra": "forbid", "frozen": True}

    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="who holds the key (in the audit log)")
    api_key_hash: str = Field(description="sha256:<hex> of the key (never the key itself)")
    role: ConsoleRole = Field(default=ConsoleRole.VIEWER, description="viewer or operator")

    @field_validator("api_key_hash")
    @classmethod
    def _looks_like_a_hash(cls, value: str) -> str:
        if not _HASH.match(value):
            raise ValueError("api_key_hash must be 'sha256:<64 hex digits>' (never a raw key)")
        return value


class ConsoleSettings(BaseModel):
    """Where the console listens, who may use it, and how much the bridge keeps for it."""

    model_config = {"extra": "forbid", "frozen": True}

    host: str = Field(default="127.0.0.1", description="listen address of gws-bridge console")
    port: int = Field(default=DEFAULT_CONSOLE_PORT, ge=0, le=65535, description="listen port")
    keys: list[ConsoleKey] = Field(default_factory=list, description="admin API keys (hashed)")
    session_ttl: float = Field(
        default=8 * 3600.0, gt=0, le=7 * 86400, description="seconds a browser session lasts after sign-in"
    )
    secure_cookie: bool = Field(
        default=False, description="mark the session cookie Secure (set when served over HTTPS)"
    )
    masked_keys: list[str] = Field(
        default_factory=list,
        description="userData (and any other data) keys whose values the console shows as ••••",
    )
    record: bool = Field(default=True, description="record delivery attempts for the console (worker)")
    recent_events: int = Field(
        default=20_000, ge=100, le=1_000_000, description="most delivery attempts kept (Redis stream length)"
    )
    recent_events_age: float = Field(
        default=3600.0, ge=60, description="seconds a recorded attempt is kept at most"
    )
    recent_commands: int = Field(
        default=2_000, ge=10, le=100_000, description="most commands kept in the index"
    )
    agent_status_interval: float = Field(
        default=5.0, ge=0, description="seconds between the subscriber's agent status records (0 = none)"
    )
    audit_entries: int = Field(default=1_000, ge=10, description="most operator actions kept in Redis")
    sign_in_rate: float = Field(
        default=10.0,
        gt=0,
        le=10_000,
        description="sign-in attempts per minute, per client address and per key",
    )
    sign_in_burst: int = Field(
        default=10, ge=1, le=10_000, description="sign-in attempts at once (bucket size)"
    )

    @model_validator(mode="after")
    def _unique_names_and_hashes(self) -> ConsoleSettings:
        hashes = [key.api_key_hash for key in self.keys]
        if len(hashes) != len(set(hashes)):
            raise ValueError("console keys must be distinct")
        return self
