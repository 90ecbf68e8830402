"""``SimulatorConfig``: everything one simulator instance is built from (read once, passed down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulator.defaults import VOICE_FILTERS

__all__ = ["SimulatorConfig"]


@dataclass(slots=True)
class SimulatorConfig:
    """Everything a simulator instance is built from (read once, passed down).

    ``base_url`` is what URIs in replies and notifications start with; when None it is
    ``http://{host}:{port}``. ``remote_answer_delay`` is when an external party answers a Dial
    (None: never); ``interaction_invite_timeout`` revokes unanswered invitations (None: never).
    """

    host: str = "127.0.0.1"
    port: int = 8090
    agents: int = 5
    users_file: Path | None = None
    csrf: bool = True
    session_idle_timeout: float = 1800.0
    released_retention: float = 60.0
    remote_answer_delay: float | None = 0.2
    interaction_invite_timeout: float | None = None
    long_poll_timeout: float = 30.0
    cometd_session_timeout: float = 60.0
    cometd_max_queue: int = 1000
    record_notifications: bool = False
    log_size: int = 10_000
    base_url: str | None = None
    voice_filters: dict[str, list[dict[str, str]]] = field(default_factory=lambda: dict(VOICE_FILTERS))

    def url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"
