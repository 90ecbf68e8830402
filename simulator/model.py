"""The simulator's state: users, devices, channels, calls, interactions, workbins.

Plain dataclasses and ``str, Enum`` states; no IO. Every lookup an operation needs
is a dict access (by user name, DN, call id, interaction id) so that the cost of an
operation does not grow with the number of agents or calls.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Attachment",
    "Call",
    "CallState",
    "CallType",
    "ChannelState",
    "Device",
    "Interaction",
    "InteractionState",
    "MediaChannel",
    "SimState",
    "User",
    "UserState",
    "Workbin",
]


class CallState(str, Enum):
    RINGING = "Ringing"
    DIALING = "Dialing"
    ESTABLISHED = "Established"
    HELD = "Held"
    RELEASED = "Released"


class CallType(str, Enum):
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"
    INTERNAL = "Internal"
    CONSULT = "Consult"


class MediaChannel(str, Enum):
    EMAIL = "email"
    CHAT = "chat"


class InteractionState(str, Enum):
    INVITED = "Invited"
    ACCEPTED = "Accepted"
    REVOKED = "Revoked"
    REPLY_CREATED = "ReplyCreated"
    PROPERTIES_CHANGED = "PropertiesChanged"
    QUEUED = "Queued"
    PULLED = "Pulled"
    COMPLETED = "Completed"


@dataclass(slots=True)
class UserState:
    """``userState`` of a device or channel, as GWS reports it (``id``/``displayName`` when matched)."""

    state: str
    id: str | None = None
    display_name: str | None = None
    work_mode: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        if self.display_name is not None:
            out["displayName"] = self.display_name
        out["state"] = self.state
        if self.work_mode is not None:
            out["workMode"] = self.work_mode
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(slots=True)
class Device:
    """The agent's voice device (one per agent)."""

    id: str
    phone_number: str
    user_state: UserState
    # deviceState (003:4781, "Active, or Inactive"): whether the device is available — in service
    # and assigned to the agent's session. Going Offline leaves it Active (the Offline sample).
    state: str = "Active"
    assigned: bool = True  # to the agent's contact-center session (EndContactCenterSession unassigns)
    do_not_disturb: bool = False
    forward_to: str | None = None
    telephony_network: str = "Private"
    # {"state", "mode", "scope", "targetDeviceUri"} while monitoring; None otherwise
    supervisor_monitoring: dict[str, str] | None = None


@dataclass(slots=True)
class ChannelState:
    """A multimedia channel (email, chat) of one agent."""

    channel: str
    user_state: UserState
    dnd: bool = False


@dataclass(slots=True)
class User:
    """A GWS user (agent or supervisor) with its device, channels and live objects."""

    user_name: str
    password: str
    id: str
    first_name: str
    last_name: str
    device: Device
    roles: list[str] = field(default_factory=lambda: ["ROLE_AGENT"])
    channels: dict[str, ChannelState] = field(default_factory=dict)
    # call id -> Call (active and recently released); insertion order = creation order
    calls: dict[str, Call] = field(default_factory=dict)
    # the subset of ``calls`` not yet Released (usually 0-2), for capability checks
    live_calls: dict[str, Call] = field(default_factory=dict)
    # interaction id -> Interaction owned by or offered to this user
    interactions: dict[str, Interaction] = field(default_factory=dict)
    workbins: dict[str, Workbin] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """One leg of a voice call, as seen from one agent's device."""

    id: str
    call_uuid: str
    owner: str  # user name
    state: CallState
    call_type: CallType
    participants: list[str]
    dnis: str
    ani: str
    started: float
    user_data: dict[str, Any] | None = None
    parent_call_id: str | None = None
    # the same call seen from the other agent's device (internal calls), by call id
    peer_call_id: str | None = None
    mute: bool = False
    recording_state: str | None = None
    supervisor_listening_in: bool = False
    monitored_user_muted: bool = False
    monitoring: bool = False
    released_at: float | None = None
    # consult calls: "transfer" or "conference", to offer the matching Complete* capability
    consult_purpose: str | None = None

    def duration(self, now: float | None = None) -> int:
        end = self.released_at if self.released_at is not None else (now or time.monotonic())
        return max(0, int(end - self.started))


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document attached to an e-mail interaction (003:2648-2673)."""

    file_name: str
    mime_type: str
    content: bytes = field(repr=False)


@dataclass(slots=True)
class Interaction:
    """An e-mail or chat interaction offered to or owned by one agent (or parked in a workbin)."""

    id: str
    channel: MediaChannel
    owner: str | None
    state: InteractionState
    subject: str
    text: str
    from_address: str
    to_address: str
    queue: str
    user_data: dict[str, Any] = field(default_factory=dict)
    thread_id: str = ""
    start_date: int | None = None  # epoch ms, set on Accept
    interaction_type: str = "Inbound"
    interaction_sub_type: str = "InboundNew"
    parent_id: str | None = None
    # chat transcript events (PARTY_JOINED, MESSAGE, NOTICE, PARTY_LEFT), ids ascending
    events: list[dict[str, Any]] = field(default_factory=list)
    customer_nickname: str = "customer"
    customer_user_id: str = ""
    chat_ended: bool = False
    workbin: str | None = None
    attachments: dict[str, Attachment] = field(default_factory=dict)  # by documentId


@dataclass(slots=True)
class Workbin:
    """A personal workbin; interactions parked in it by id."""

    workbin_id: str
    name: str
    interactions: dict[str, Interaction] = field(default_factory=dict)


class SimState:
    """Every user and live object of one simulator instance, indexed for O(1) lookups."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.users_by_dn: dict[str, User] = {}
        self.users_by_device: dict[str, User] = {}
        self.users_by_id: dict[str, User] = {}
        self.calls: dict[str, Call] = {}
        self.interactions: dict[str, Interaction] = {}
        self.service_states: dict[str, str] = {}
        # (release time, call id) in release order, to expire Released calls in O(1) amortised
        self.released: deque[tuple[float, str]] = deque()
        self._call_counter = itertools.count(1)
        self._interaction_counter = itertools.count(1)
        self._uuid_prefix = uuid.uuid4().hex[:8].upper()

    def add_user(self, user: User) -> None:
        self.users[user.user_name] = user
        self.users_by_dn[user.device.phone_number] = user
        self.users_by_device[user.device.id] = user
        self.users_by_id[user.id] = user

    def user(self, name_or_dn: str) -> User | None:
        """A user by user name, DN or user id; None when unknown."""
        return (
            self.users.get(name_or_dn) or self.users_by_dn.get(name_or_dn) or self.users_by_id.get(name_or_dn)
        )

    def new_call_ids(self) -> tuple[str, str]:
        """A fresh ``(id, callUuid)``: 32 opaque hex characters and a T-Server-like connection UUID."""
        n = next(self._call_counter)
        return uuid.uuid4().hex, f"{self._uuid_prefix}{n:024X}"

    def new_interaction_id(self) -> str:
        n = next(self._interaction_counter)
        return f"{self._uuid_prefix[:4]}{n:012X}"

    def add_call(self, call: Call) -> None:
        self.calls[call.id] = call
        owner = self.users[call.owner]
        owner.calls[call.id] = call
        owner.live_calls[call.id] = call

    def mark_released(self, call: Call, now: float) -> None:
        call.released_at = now
        owner = self.users.get(call.owner)
        if owner is not None:
            owner.live_calls.pop(call.id, None)
        self.released.append((now, call.id))

    def expire_released(self, now: float, retention: float) -> int:
        """Forget Released calls older than ``retention`` seconds; returns how many were dropped."""
        dropped = 0
        while self.released and now - self.released[0][0] >= retention:
            _, call_id = self.released.popleft()
            call = self.calls.pop(call_id, None)
            if call is not None:
                owner = self.users.get(call.owner)
                if owner is not None:
                    owner.calls.pop(call_id, None)
                dropped += 1
        return dropped

    def clear_live_objects(self) -> None:
        """Forget every call and interaction (users keep their agent state)."""
        self.calls.clear()
        self.interactions.clear()
        self.released.clear()
        for user in self.users.values():
            user.calls.clear()
            user.live_calls.clear()
            user.interactions.clear()
            for workbin in user.workbins.values():
                workbin.interactions.clear()
