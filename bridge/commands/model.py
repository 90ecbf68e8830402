"""The command model: what a client asks for, what translation needs, and what it produces.

A :class:`Command` (with its :class:`Dialect`) is what every inbound dialect
parses into; :class:`AgentContext` (with :class:`AgentStateDefinition`) carries
the GWS facts a translation needs, named by :class:`Need`; a translation yields
a :class:`GwsRequest` and an :class:`OutcomeRule`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Dialect(str, Enum):
    """The inbound formats a command can arrive in."""

    JSON = "json"
    CTI = "cti"
    SLACK = "slack"


class Need(str, Enum):
    """Facts from GWS a translation needs (fetched, and cached, by the executor)."""

    DEVICE = "device"  # the agent's voice device id (/me/devices)
    AGENT_STATES = "agent_states"  # GET /settings/agent-states
    DISPOSITIONS = "dispositions"  # GET /settings/dispositions (+ hierarchical groups)


class Command(BaseModel):
    """One inbound command: ``action`` for ``agent``, with validated ``params``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    agent: str
    action: str
    params: dict[str, Any]
    idempotency_key: str | None = None
    dialect: Dialect = Dialect.JSON


@dataclass(frozen=True)
class GwsRequest:
    """One GWS REST request; ``path`` is relative to ``/api/v2``."""

    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutcomeRule:
    """How the CometD outcome of an accepted operation is recognised.

    ``synchronous`` rules are settled by the REST reply alone. Otherwise a
    ``CallStateChangeMessage`` about ``call_id`` (any call when ``call_id`` is
    None) whose state is in ``call_states`` or whose notificationType is in
    ``notification_types`` means success, as does a ``DeviceStateChangeMessage``
    / channel message matching ``user_state`` / ``work_mode`` / ``dnd`` /
    ``channel``. An ``ErrorMessage`` whose ``callUri`` names ``call_id`` means
    failure; one without ``callUri`` fails the oldest pending command whose rule
    has ``device_errors``.
    """

    synchronous: bool = False
    call_id: str | None = None
    call_states: frozenset[str] = frozenset()
    notification_types: frozenset[str] = frozenset()
    recording_state: str | None = None
    user_state: str | None = None
    work_mode: str | None = None
    dnd: str | None = None
    channel: str | None = None
    device_errors: bool = False


SYNC = OutcomeRule(synchronous=True)


@dataclass(frozen=True)
class AgentStateDefinition:
    """One entry of ``settings/agent-states``."""

    operation_name: str
    display_name: str = ""
    state: str = ""
    work_mode: str | None = None
    reason: str | None = None

    @classmethod
    def from_gws(cls, item: Mapping[str, Any]) -> AgentStateDefinition:
        """Build from a GWS settings item (``operationName``, ``displayName``, ``state``, …)."""
        return cls(
            operation_name=str(item.get("operationName", "")),
            display_name=str(item.get("displayName") or ""),
            state=str(item.get("state") or ""),
            work_mode=item.get("workMode") or None,
            reason=item.get("reason") or None,
        )

    @property
    def notified_state(self) -> str:
        """The ``userState.state`` GWS notifies (settings say ``Logout``, devices ``LoggedOut``)."""
        return "LoggedOut" if self.state in {"Logout", "LoggedOut", "Logged Out"} else self.state


@dataclass(frozen=True)
class AgentContext:
    """What the translator knows about the agent from GWS; only what :func:`requirements` asked for."""

    base_url: str = ""
    device_id: str | None = None
    agent_states: tuple[AgentStateDefinition, ...] | None = None
    dispositions: frozenset[str] | None = None
