"""The options of a Slack destination (``kind = "slack"``, its ``options``): :class:`SlackOptions`.

- ``token``: the bot token as a secret reference (``env:SLACK_BOT_TOKEN`` or ``file:…``), with
  ``channel`` (a channel id such as ``C0123456789``); or ``webhook_url``, an incoming-webhook URL
  as a secret reference (one fixed channel, no threads, no updates).
- ``api_base_url``: the Web API root (default ``https://slack.com/api/``; tests point it at a local
  server).
- ``threads``: ``"reply"`` (default: later events of a call or interaction reply in the thread of
  the first one), ``"update"`` (they ``chat.update`` the root message), ``"both"``, or ``"off"``.
- ``dispositions``: disposition names offered as buttons under an established call (none by default);
  ``agent_buttons``: Ready / Not Ready under agent-state messages (default on); ``call_buttons``:
  Hold (while established) and Retrieve (while held) on the call card and the held / retrieved
  lines (default on); ``transfer_targets``: ``[{name, number}, …]`` offered in a "Transfer to…"
  menu beside Hold (a single-step transfer; none by default, at most 100).
- ``channel_interval``: seconds between two posts to one channel, across every worker (default 1.0,
  Slack's "about one message per second per channel"); ``max_pace_wait``: how long a send may wait
  for its slot before it fails as retryable with that delay (default 5 s; an attempt, so let the
  destination's ``rate_limit`` token bucket, whose deferrals cost none, do the bulk of the pacing).
- ``thread_ttl``: seconds a thread's root ``ts`` is remembered (default 2 days).
- ``wallboard``: ``stats.updated`` events keep ONE message in the channel updated in place with
  every statistics object's figures (:mod:`connectors.slack_wallboard`; bot mode only), at most
  one ``chat.update`` per ``wallboard_interval`` seconds (default 10); ``wallboard_title``.
  ``stats.threshold_crossed`` is posted as an alert of its own (and marks the board).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from bridge.config.secret_refs import resolve_secret
from bridge.errors import ConfigError

__all__ = ["SlackOptions", "TransferTarget", "slack_options_problems", "slack_routing_notes"]

_SECRET_REF = ("env:", "file:")


class TransferTarget(BaseModel):
    """Where the call card's transfer menu can put a call: a label and the number GWS dials."""

    model_config = {"extra": "forbid", "frozen": True}

    name: str = Field(min_length=1, max_length=75)
    number: str = Field(pattern=r"^\+?[0-9A-Za-z*#._-]{1,64}$")


class SlackOptions(BaseModel):
    """``DestinationConfig.options`` of a Slack destination (see the module docstring)."""

    model_config = {"extra": "forbid", "frozen": True}

    token: str | None = None
    channel: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_#-]{1,80}$")
    webhook_url: str | None = None
    api_base_url: str = "https://slack.com/api/"
    threads: Literal["reply", "update", "both", "off"] = "reply"
    dispositions: list[str] = Field(default_factory=list, max_length=25)
    agent_buttons: bool = True
    call_buttons: bool = True
    transfer_targets: list[TransferTarget] = Field(default_factory=list, max_length=100)
    channel_interval: float = Field(default=1.0, ge=0)
    max_pace_wait: float = Field(default=5.0, ge=0)
    thread_ttl: float = Field(default=2 * 24 * 3600.0, gt=0)
    key_prefix: str = Field(default="gwsb", min_length=1)
    wallboard: bool = False
    wallboard_interval: float = Field(default=10.0, ge=1)
    wallboard_title: str = Field(default="Queue wallboard", min_length=1, max_length=100)

    @property
    def call_controls(self) -> tuple[tuple[str, str], ...] | None:
        """The renderer's ``transfer_targets``: None without call buttons."""
        if not self.call_buttons:
            return None
        return tuple((target.name, target.number) for target in self.transfer_targets)

    @model_validator(mode="after")
    def _one_mode(self) -> SlackOptions:
        if (self.token is None) == (self.webhook_url is None):
            raise ValueError("give either token (with channel) or webhook_url")
        if self.wallboard and self.token is None:
            raise ValueError("the wallboard needs the bot mode (token and channel): a webhook cannot update")
        if self.token is not None and not self.channel:
            raise ValueError("a bot token needs a channel")
        for name in ("token", "webhook_url"):
            value = getattr(self, name)
            if value is not None and not value.startswith(_SECRET_REF):
                # Never echo it: it is probably the pasted secret itself.
                raise ValueError(f"{name} must be a secret reference (env:NAME or file:PATH)")
        if not self.api_base_url.startswith(("http://", "https://")):
            raise ValueError("api_base_url must start with http:// or https://")
        return self


def slack_options_problems(
    options: Mapping[str, Any], *, resolve_secrets: bool = True, environ: Mapping[str, str] | None = None
) -> list[str]:
    """What is wrong with a Slack destination's ``options``: one ``options.<field>: message`` per
    problem, empty when the connector would accept them. With ``resolve_secrets`` the ``token`` /
    ``webhook_url`` references are resolved too (the message names the reference, never a value).
    """
    try:
        parsed = SlackOptions.model_validate(options)
    except ValidationError as exc:
        return [
            "options" + "".join(f".{part}" for part in error["loc"]) + f": {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
    problems: list[str] = []
    for name in ("token", "webhook_url"):
        reference = getattr(parsed, name)
        if resolve_secrets and reference is not None:
            try:
                resolve_secret(reference, environ=environ)
            except ConfigError as exc:
                problems.append(f"options.{name}: {exc}")
    return problems


def slack_routing_notes(options: Mapping[str, Any], routed: Collection[str]) -> list[str]:
    """What the destination's buttons miss among the event types ``routed`` to it, one
    ``options.<field>: note`` each (a configuration that works, but not as its user expects)."""
    try:
        parsed = SlackOptions.model_validate(options)
    except ValidationError:
        return []  # slack_options_problems reports it
    notes: list[str] = []
    missing = [name for name in ("call.held", "call.retrieved") if name not in routed]
    if parsed.call_buttons and "call.established" in routed and missing:
        notes.append(
            f"options.call_buttons: Hold is shown on established calls, but {' and '.join(missing)} "
            "are not routed here, so the call's messages never turn Hold into Retrieve and back "
            "(docs/slack.md, section 2, has the route)"
        )
    missing = [name for name in ("interaction.revoked", "interaction.completed") if name not in routed]
    if "chat.message" in routed and missing:
        notes.append(
            f"options: chat.message is routed here but {' and '.join(missing)} are not, so after a "
            "transfer or its end a chat's thread still takes its former agent's replies (GWS refuses them)"
        )
    return notes
