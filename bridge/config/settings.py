"""The one ``Settings`` object: a TOML file plus ``GWSB_`` environment variables.

Read once, in the CLI (:func:`load_settings`), and passed down; no other
module reads ``os.environ``. Environment variables override the file; nested
keys use ``__``, e.g. ``GWSB_GWS__BASE_URL``. Every option is documented in
``config/bridge.example.toml``.

Each section's model has its own module beside this one (``gws.py``, ``subscriber.py``,
``delivery.py``, ``inbound.py``, ``slack.py``, ``console.py``, ``tracing.py``, ``statistics.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bridge.config.console import ConsoleSettings
from bridge.config.delivery import DeliverySettings, DestinationConfig, RouteConfig
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundSettings
from bridge.config.keys import Keys
from bridge.config.redis import RedisSentinelSettings
from bridge.config.statistics import StatisticsObject
from bridge.config.subscriber import SubscriberSettings
from bridge.config.tracing import TracingSettings
from bridge.errors import ConfigError

__all__ = ["NormalizerSettings", "Settings", "format_validation_error", "load_settings"]


class NormalizerSettings(BaseModel):
    """How GWS messages become events."""

    model_config = {"extra": "forbid"}

    source: str = Field(default="gws-bridge", description="CloudEvents `source` prefix for emitted events")
    include_raw: bool = Field(default=False, description="carry the raw GWS message in data.raw")


class Settings(BaseSettings):
    """Everything configurable in gws-bridge."""

    model_config = SettingsConfigDict(
        env_prefix="GWSB_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis (broker + state)")
    redis_sentinel: RedisSentinelSettings | None = Field(
        default=None, description="reach Redis through Sentinel (redis_url is then ignored)"
    )
    gws: GwsSettings = Field(default_factory=GwsSettings)
    agents: list[AgentConfig] = Field(default_factory=list)
    subscriber: SubscriberSettings = Field(default_factory=SubscriberSettings)
    normalizer: NormalizerSettings = Field(default_factory=NormalizerSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    destinations: list[DestinationConfig] = Field(default_factory=list)
    routes: list[RouteConfig] = Field(default_factory=list)
    statistics: list[StatisticsObject] = Field(default_factory=list)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)

    _toml_file: ClassVar[Path | None] = None

    @model_validator(mode="after")
    def _statistics_known(self) -> Settings:
        ids = [obj.object_id for obj in self.statistics]
        if len(set(ids)) != len(ids):
            raise ValueError("statistics: an object_id is listed twice")
        users = {agent.username for agent in self.agents}
        for index, obj in enumerate(self.statistics):
            if obj.user is not None and obj.user not in users:
                raise ValueError(f"statistics[{index}].user {obj.user!r} is not one of the [[agents]]")
        return self

    @property
    def keys(self) -> Keys:
        """The names of every Redis key this bridge owns (under ``[delivery] key_prefix``)."""
        return Keys(self.delivery.key_prefix)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        return tuple(sources)


def format_validation_error(exc: ValidationError, origin: str) -> str:
    """One line per error: ``origin: dotted.location: message``."""
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{origin}: {location}: {error['msg']}")
    return "\n".join(lines)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (TOML, optional) and the environment.

    Raises ``ConfigError`` whose message lists every problem with its location.
    """
    toml_file = Path(path) if path is not None else None
    if toml_file is not None and not toml_file.is_file():
        raise ConfigError(f"{toml_file}: no such configuration file")
    Settings._toml_file = toml_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(toml_file or "environment"))) from exc
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"{toml_file}: {exc}") from exc
    finally:
        Settings._toml_file = None
