"""Configuration of the inbound command receiver.

Clients authenticate with a Bearer API key (only its SHA-256 hash is stored,
``sha256:<hex>``) and/or a Standard Webhooks signature (``whsec_…`` secrets).
A client is limited to named agents (``"*"`` = any configured agent) or to
agents in named groups (``AgentConfig.groups``).
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from bridge.config.slack import SlackInboundSettings

__all__ = ["InboundClient", "InboundSettings", "hash_api_key"]

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def hash_api_key(api_key: str) -> str:
    """The form an API key is stored in: ``sha256:<hex digest>``."""
    return "sha256:" + hashlib.sha256(api_key.encode()).hexdigest()


class InboundClient(BaseModel):
    """One system allowed to send commands (a CRM, a CTI widget, a workflow engine)."""

    model_config = {"extra": "forbid", "frozen": True}

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    api_key_hashes: list[str] = Field(default_factory=list, description="sha256:<hex> of each API key")
    signing_secrets: list[SecretStr] = Field(
        default_factory=list, description="Standard Webhooks secrets (whsec_<base64>)"
    )
    require_signature: bool = Field(
        default=False, description="refuse requests without a valid signature even with a valid key"
    )
    agents: list[str] = Field(default_factory=list, description='agent usernames, or "*" for all')
    groups: list[str] = Field(default_factory=list, description="agent groups this client may act for")
    rate_limit: float = Field(default=200.0, gt=0, description="sustained commands per second")
    burst: int = Field(default=400, ge=1, description="commands allowed at once above the rate")

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_look_like_hashes(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _HASH.match(item):
                raise ValueError("api_key_hashes entries must be 'sha256:<64 hex digits>' (never a raw key)")
        return value

    @model_validator(mode="after")
    def _has_a_credential(self) -> InboundClient:
        if not self.api_key_hashes and not self.signing_secrets:
            raise ValueError(f"client {self.name!r} needs api_key_hashes or signing_secrets")
        if self.require_signature and not self.signing_secrets:
            raise ValueError(f"client {self.name!r} requires a signature but has no signing_secrets")
        return self


class InboundSettings(BaseModel):
    """Where the receiver listens and whom it accepts."""

    model_config = {"extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    clients: list[InboundClient] = Field(default_factory=list)
    signature_tolerance: float = Field(
        default=300.0, gt=0, le=3600, description="seconds a signed request's timestamp may be off"
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=256, description="larger bodies get 413")
    idempotency_ttl: float = Field(default=24 * 3600.0, gt=0, description="seconds a result is replayed")
    store: str = Field(
        default="redis", pattern="^(redis|memory)$", description="state store; memory = one process"
    )
    outcome_timeout: float = Field(
        default=10.0, gt=0, description="seconds to wait for the CometD outcome before 'unknown'"
    )
    cti_confirm_timeout: float = Field(
        default=3.0, ge=0, description="seconds a CTI reply waits for the state-change event"
    )
    disposition_groups: list[str] = Field(
        default_factory=list, description="GWS group ids of hierarchical dispositions to accept as well"
    )
    listener_idle_timeout: float = Field(
        default=60.0, gt=0, description="seconds an agent's outcome listener stays open with nothing pending"
    )
    settings_cache_ttl: float = Field(
        default=60.0, ge=0, description="seconds agent-states / dispositions / device ids are cached"
    )
    slack: SlackInboundSettings | None = Field(default=None, description="Slack chatops (docs/slack.md)")
    metrics_token_hashes: list[str] = Field(
        default_factory=list,
        description="sha256: hashes of bearer tokens GET /metrics requires (empty = /metrics is open)",
    )

    @field_validator("metrics_token_hashes")
    @classmethod
    def _hashed(cls, hashes: list[str]) -> list[str]:
        for value in hashes:
            if not _HASH.match(value):
                raise ValueError("metrics tokens are given as sha256:<64 hex> (gws-bridge hash-key)")
        return hashes

    @model_validator(mode="after")
    def _unique_client_names(self) -> InboundSettings:
        names = [client.name for client in self.clients]
        if len(names) != len(set(names)):
            raise ValueError("inbound client names must be unique")
        return self
