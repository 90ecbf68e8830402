"""Configuration of Slack chatops (``[inbound.slack]``): signing secret, users, command names."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

__all__ = ["SlackInboundSettings"]


class SlackInboundSettings(BaseModel):
    """How ``/slack/commands`` and ``/slack/interactions`` verify requests and whom they act for.

    ``users`` maps a Slack user id (``U…``/``W…``) to the GWS agent (user name in ``[[agents]]``)
    that user may act as; anyone else is refused. ``response_url_prefixes`` limits where outcomes
    are posted (Slack's own ``https://hooks.slack.com/`` by default).
    """

    model_config = {"extra": "forbid", "frozen": True, "hide_input_in_errors": True}

    signing_secret: SecretStr = Field(description="the Slack app's signing secret (Basic Information)")
    users: dict[str, str] = Field(default_factory=dict, description="Slack user id -> GWS agent user name")
    agent_command: str = Field(default="/agent", pattern=r"^/[a-z0-9_-]{1,31}$")
    dispo_command: str = Field(default="/dispo", pattern=r"^/[a-z0-9_-]{1,31}$")
    queue_command: str = Field(default="/queue", pattern=r"^/[a-z0-9_-]{1,31}$")
    response_url_prefixes: list[str] = Field(
        default_factory=lambda: ["https://hooks.slack.com/"], min_length=1,
        description="a response_url must start with one of these",
    )  # fmt: skip
    outcome_wait: float = Field(
        default=5.0, ge=0, le=25, description="seconds to wait for GWS's confirmation before answering"
    )

    @field_validator("signing_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("signing_secret is empty")
        return value

    @field_validator("users")
    @classmethod
    def _user_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for user_id, agent in value.items():
            if not user_id or not user_id.isalnum() or not agent:
                raise ValueError(f"users: {user_id!r} must be a Slack user id mapped to an agent name")
        return value
