"""Static GWS configuration the simulator serves, and how its users are generated or loaded.

The values are those of the seed samples (agent-state definitions, dispositions, voice
filters, workbin types, services), so that a client developed against the simulator sees
the same settings it will see on a GWS lab.
"""

from __future__ import annotations

import base64
import tomllib
import uuid
from pathlib import Path
from typing import Any

from simulator.model import ChannelState, Device, User, UserState, Workbin

__all__ = [
    "AGENT_STATES",
    "DISPOSITIONS",
    "DISPOSITION_GROUP",
    "SERVICES",
    "VERSION",
    "VOICE_ENVIRONMENT_ID",
    "VOICE_FILTERS",
    "WORKBIN_TYPES",
    "agent_state_by_operation",
    "generate_users",
    "load_users",
]

VERSION = "8.5.200.23"
VOICE_ENVIRONMENT_ID = "370ef5e6-9e3c-4d91-9588-7f4dfe67e011"
_NAMESPACE = uuid.UUID("6f1d5a52-1d0e-4e38-9c5b-2f3b1f0a9b11")

# settings/agent-states (rest_get_settings_agent_states_response.json)
AGENT_STATES: list[dict[str, str]] = [
    {"id": "D3663509-3D82-4DD3-A82E-2EA8EFA02AEF", "operationName": "AfterCallWork",
     "displayName": "AfterCallWork", "state": "NotReady", "workMode": "AfterCallWork"},
    {"id": "2B36138D-C564-4562-A8CB-3C32D564F296", "operationName": "AuxWork",
     "displayName": "AuxWork", "state": "NotReady", "workMode": "AuxWork"},
    {"id": "900D55CC-2BB0-431F-8BF9-D3525B383BE6", "operationName": "NotReady",
     "displayName": "Not Ready", "state": "NotReady"},
    {"id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB", "operationName": "Offline",
     "displayName": "Offline", "state": "Logout"},
    {"id": "9430250E-0A1B-421F-B372-F29E69366DED", "operationName": "Ready",
     "displayName": "Ready", "state": "Ready"},
    {"id": "90b2b0c6-8395-4d7b-b94a-ed634ac612b3", "operationName": "Training",
     "displayName": "Training", "state": "NotReady", "workMode": "AuxWork", "reason": "Training"},
    {"id": "5c0d3b8e-1f0b-4a52-9d7c-6a1e2f3b4c5d", "operationName": "OutToLunch",
     "displayName": "Not Ready - Out to lunch", "state": "NotReady", "reason": "OutToLunch"},
]  # fmt: skip

_AGENT_STATES_BY_OPERATION = {entry["operationName"]: entry for entry in AGENT_STATES}


def agent_state_by_operation(operation: str) -> UserState | None:
    """The ``userState`` an agent-state operation produces (Offline → ``LoggedOut``); None if unknown."""
    entry = _AGENT_STATES_BY_OPERATION.get(operation)
    if entry is None:
        return None
    state = "LoggedOut" if entry["state"] == "Logout" else entry["state"]
    return UserState(
        state=state,
        id=entry["id"],
        display_name=entry["displayName"],
        work_mode=entry.get("workMode"),
        reason=entry.get("reason"),
    )


# settings/dispositions (rest_get_settings_dispositions_response.json)
DISPOSITIONS: list[dict[str, str]] = [
    {"displayName": "Issue Escalated", "name": "EscalationCreated"},
    {"displayName": "Issue Resolved", "name": "IssueResolved"},
    {"displayName": "Update Provided", "name": "UpdateProvided"},
    {"displayName": "Information Requested", "name": "InfoRequested"},
]

# Hierarchical dispositions: one root group with one sub-group (rest_get_group_tree_response.json)
DISPOSITION_GROUP: dict[str, Any] = {
    "id": "dispositions",
    "name": "Dispositions",
    "contains": "dispositions",
    "dispositions": [
        {"name": "Disp1", "displayName": "Dispo One"},
        {"name": "Disp2", "displayName": "Dispo Two"},
        {"name": "Disp3", "displayName": "Dispo Three"},
    ],
    "groups": [
        {
            "id": "dispositions-sub",
            "name": "Sub-group",
            "contains": "dispositions",
            "dispositions": [
                {"name": "Disp4", "displayName": "Dispo 4"},
                {"name": "Disp5", "displayName": "Dispo 5"},
                {"name": "Disp6", "displayName": "Dispo 6"},
            ],
            "groups": [],
        }
    ],
}

# settings/voice toast-filter and case-filter (rest_get_settings_voice_filters_response.json)
VOICE_FILTERS: dict[str, list[dict[str, str]]] = {
    "case-filter": [
        {"attachedDataKey": "CustomerName", "displayName": "Customer"},
        {"attachedDataKey": "POC", "displayName": "Purpose of Call"},
    ],
    "toast-filter": [{"attachedDataKey": "CustomerName", "displayName": "Customer"}],
}

WORKBIN_TYPES: list[dict[str, str]] = [
    {"name": "EmailWorkbinInProgress", "view": "EmailWorkbinInProgress/PrivateView"},
    {"name": "EmailWorkbinDraft", "view": "EmailWorkbinDraft/PrivateView"},
    {"name": "TestWorkbin", "view": "TestWorkbin/PrivateView"},
]

# type -> (id, name); states start Active
SERVICES: dict[str, tuple[str, str]] = {
    "Voice": (VOICE_ENVIRONMENT_ID, "SIPS"),
    "Media": ("5e1c2f7a-0d3b-4c8e-9a61-2b7d4f8e1c03", "InteractionServer"),
    "Provisioning": ("8a4b2c1d-6e5f-4a3b-9c8d-7e6f5a4b3c2d", "ConfigServer"),
    "Reporting": ("1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "StatServer"),
}


def _make_user(
    user_name: str,
    password: str,
    dn: str,
    *,
    first_name: str,
    last_name: str,
    roles: list[str],
) -> User:
    user_id = uuid.uuid5(_NAMESPACE, f"user:{user_name}").hex
    device_id = str(uuid.uuid5(_NAMESPACE, f"device:{user_name}:{dn}"))
    not_ready = agent_state_by_operation("NotReady")
    assert not_ready is not None
    user = User(
        user_name=user_name,
        password=password,
        id=user_id,
        first_name=first_name,
        last_name=last_name,
        roles=roles,
        device=Device(id=device_id, phone_number=dn, user_state=not_ready),
    )
    for channel in ("email", "chat"):
        state = agent_state_by_operation("NotReady")
        assert state is not None
        user.channels[channel] = ChannelState(channel=channel, user_state=state)
    for workbin in WORKBIN_TYPES:
        # GWS workbin ids are the base64 of the view (rest_get_workbins_types_response.json)
        # (URL-safe alphabet, no padding, so that ids need no escaping in paths)
        workbin_id = base64.urlsafe_b64encode(workbin["view"].encode()).decode().rstrip("=")
        user.workbins[workbin_id] = Workbin(workbin_id=workbin_id, name=workbin["name"])
    return user


def generate_users(count: int, *, first_dn: int = 5001) -> list[User]:
    """``agent0001``… with password ``password`` and DNs ``first_dn``…, all NotReady."""
    return [
        _make_user(
            f"agent{i:04d}",
            "password",
            str(first_dn + i - 1),
            first_name="Agent",
            last_name=f"{i:04d}",
            roles=["ROLE_AGENT"],
        )
        for i in range(1, count + 1)
    ]


def load_users(path: Path) -> list[User]:
    """Users from a TOML file: ``[[users]]`` tables with ``userName``, ``password``, ``dn`` and
    optional ``firstName``, ``lastName``, ``roles``.

    Raises ValueError naming the entry when a required key is missing or a name/DN repeats.
    """
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = document.get("users")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected one or more [[users]] tables")
    users: list[User] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            name, password, dn = str(entry["userName"]), str(entry["password"]), str(entry["dn"])
        except KeyError as exc:
            raise ValueError(f"{path}: users[{index}] lacks {exc.args[0]!r}") from None
        if name in seen or dn in seen:
            raise ValueError(f"{path}: users[{index}] repeats user name or DN {name!r}/{dn!r}")
        seen.update((name, dn))
        users.append(
            _make_user(
                name,
                password,
                dn,
                first_name=str(entry.get("firstName", name)),
                last_name=str(entry.get("lastName", "")),
                roles=[str(role) for role in entry.get("roles", ["ROLE_AGENT"])],
            )
        )
    return users
