"""The command model: what a client asks for, what translation needs, and what it produces.

A :class:`Command` (with its :class:`Dialect`) is what every inbound dialect
parses into; :class:`AgentContext` (with :class:`AgentStateDefinition`) carries
the GWS facts a translation needs, named by :class:`Need`; a translation yields
an :class:`Operation`: a :class:`GwsRequest` and an :class:`OutcomeRule` (both defined with the
operation builders in :mod:`bridge.gws.operations.request`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.gws.operations.request import SYNC, GwsRequest, Operation, OutcomeRule

__all__ = [
    "SYNC",
    "AgentContext",
    "AgentStateDefinition",
    "Command",
    "Dialect",
    "GwsRequest",
    "Need",
    "Operation",
    "OutcomeRule",
]


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
