"""What an agent session reports: :class:`SessionStatus`, and errors told in one line."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SessionStatus", "describe_error"]


@dataclass
class SessionStatus:
    """What an :class:`~bridge.gws.session.AgentSession` is doing (a copy: ``AgentSession.snapshot``).

    ``connected``: subscribed and caught up (the first recovery done), and the
    last CometD connect succeeded. ``last_message_at`` is a Unix timestamp.
    ``reconnects`` counts re-handshakes, reconnections after a failure and full
    restarts after the first connection.
    """

    agent: str
    connected: bool = False
    last_message_at: float | None = None
    reconnects: int = 0
    recoveries: int = 0
    messages: int = 0
    events: int = 0
    last_error: str | None = None


def describe_error(exc: BaseException) -> str:
    """``exc`` in one line (type and text) for logs and ``status.last_error``."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
