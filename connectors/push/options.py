"""Destination ``options`` shared by the APNs and FCM connectors, and reading credentials.

Credentials are references, never inline values: ``file:PATH`` (the ``.p8``
key, the service-account JSON) or ``env:NAME`` (the same content in an
environment variable). Errors name the reference, never the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.config.delivery import DestinationConfig
from bridge.config.secret_refs import read_secret
from bridge.errors import ConfigError
from connectors.push.payload import PushMode

__all__ = ["PushOptions", "parse_options", "read_credential"]


class PushOptions(BaseModel):
    """Options every push destination takes (``[destinations.options]`` in TOML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: PushMode = Field(default=PushMode.DEFAULT, description="default (with alerts) or compact (256 B)")
    ttl: int = Field(default=3600, ge=0, le=28 * 24 * 3600, description="seconds a push stays deliverable")
    call_alert_ttl: int = Field(default=30, ge=0, le=3600, description="seconds a ringing-call push lives")
    # longer than the default retry schedule (~28 h), so a late retry still skips reached devices
    sent_ttl: float = Field(
        default=3 * 86400.0, gt=0, description="seconds an event remembers reached devices"
    )
    concurrency: int = Field(default=16, ge=1, le=1000, description="pushes in flight per event")


M = TypeVar("M", bound=BaseModel)


def parse_options(model: type[M], config: DestinationConfig) -> M:
    """``config.options`` validated as ``model``; raises ``ConfigError`` listing every problem."""
    try:
        return model.model_validate(config.options)
    except ValidationError as exc:
        problems = "; ".join(
            f"options.{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"destination {config.name!r} ({config.kind}): {problems}") from exc


def read_credential(reference: str, *, what: str, environ: Mapping[str, str] | None = None) -> str:
    """The content ``reference`` (``file:PATH`` or ``env:NAME``) points to, kept byte for byte."""
    return read_secret(reference, what=what, trim="none", environ=environ)
