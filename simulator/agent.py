"""Agent state, DND, forwarding, supervisor monitoring, session start/end and password changes.

Agent-state operations are not governed by capabilities and duplicates are ignored
(002:1251): setting the state an agent already has publishes nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from simulator.defaults import agent_state_by_operation
from simulator.envelopes import OperationError
from simulator.messages import TOPIC_CHANNELS, TOPIC_DEVICES, TOPIC_ME, MessageBuilder, Publish
from simulator.model import SimState, User, UserState
from simulator.op_params import require

__all__ = ["AgentEngine"]

_MEDIA = ("email", "chat")


def _same(a: UserState, b: UserState) -> bool:
    return (a.state, a.work_mode, a.reason, a.id) == (b.state, b.work_mode, b.reason, b.id)


class AgentEngine:
    """Agent and device operations for one :class:`SimState`."""

    def __init__(self, state: SimState, builder: MessageBuilder, publish: Publish) -> None:
        self.state = state
        self.builder = builder
        self.publish = publish

    def publish_device(self, user: User) -> None:
        self.publish(TOPIC_DEVICES, self.builder.device_message(user), user.user_name)

    # -- agent state ------------------------------------------------------------------------------

    @staticmethod
    def resolve_state(operation: str) -> UserState:
        """The userState for an agent-state operation (system or custom); OperationError 2 if unknown.

        Agent-state operations take no parameter but ``operationName`` (002:8884, 000:58): the
        reason and work mode come from the operation's ``settings/agent-states`` definition; a
        request's other attributes (``reasonCode``, …) are ignored.
        """
        state = agent_state_by_operation(operation)
        if state is None:
            raise OperationError(2, f"Unknown agent state operation '{operation}'")
        return state

    def set_voice_state(self, user: User, new: UserState) -> bool:
        """Set the voice device's state; publishes a DeviceStateChangeMessage unless unchanged."""
        if _same(user.device.user_state, new):
            return False
        user.device.user_state = new
        self.publish_device(user)
        return True

    def set_channel_state(self, user: User, channel: str, new: UserState) -> bool:
        """Set one media channel's state; publishes on /v2/me/channels unless unchanged."""
        current = user.channels.get(channel)
        if current is None:
            raise OperationError(6, f"Channel '{channel}' not found")
        if _same(current.user_state, new):
            return False
        current.user_state = new
        self.publish(TOPIC_CHANNELS, self.builder.channels_message(user, [channel]), user.user_name)
        return True

    def set_all_channels(self, user: User, operation: str) -> None:
        """``POST /me`` Ready/NotReady: voice device and every media channel."""
        self.set_voice_state(user, self.resolve_state(operation))
        changed = []
        for channel in _MEDIA:
            new = self.resolve_state(operation)
            if not _same(user.channels[channel].user_state, new):
                user.channels[channel].user_state = new
                changed.append(channel)
        if changed:
            self.publish(TOPIC_CHANNELS, self.builder.channels_message(user, changed), user.user_name)

    # -- DND and forwarding -----------------------------------------------------------------------

    def set_dnd(self, user: User, on: bool, *, channels: bool = True) -> None:
        """DND on the device (DeviceStateChangeMessage) and, from ``/me``, the channel message too."""
        if user.device.do_not_disturb == on:
            return
        user.device.do_not_disturb = on
        for channel in user.channels.values():
            channel.dnd = on
        self.publish_device(user)
        if channels:
            self.publish(TOPIC_CHANNELS, self.builder.dnd_channels_message(user), user.user_name)

    def set_channel_dnd(self, user: User, channel: str, on: bool) -> None:
        state = user.channels.get(channel)
        if state is None:
            raise OperationError(6, f"Channel '{channel}' not found")
        if state.dnd == on:
            return
        state.dnd = on
        message = {"data": {"channels": [{"channel": channel, "dndState": "On" if on else "Off",
                                          "userState": state.user_state.as_json()}]}}  # fmt: skip
        self.publish(TOPIC_CHANNELS, message, user.user_name)

    def forward(self, user: User, destination: str | None) -> None:
        if user.device.forward_to == destination:
            return
        user.device.forward_to = destination
        self.publish_device(user)

    # -- supervisor -------------------------------------------------------------------------------

    def monitor(self, user: User, mode_name: str, body: dict[str, Any]) -> None:
        """ListenIn / Coach / BargeIn: ``supervisorMonitoringState`` on the supervisor's device."""
        target_uri = str(require(body, "targetDeviceUri"))
        target_id = target_uri.rstrip("/").rsplit("/", 1)[-1]
        if target_id not in self.state.users_by_device:
            raise OperationError(6, f"Device {target_id} not found")
        user.device.supervisor_monitoring = {
            "state": mode_name,
            "mode": str(body.get("supervisorMonitoringMode") or "AllCalls"),
            "scope": str(body.get("supervisorMonitoringScope") or "Call"),
            "targetDeviceUri": self.builder.device_uri(target_id),
        }
        self.publish_device(user)

    def cancel_monitoring(self, user: User) -> None:
        if user.device.supervisor_monitoring is None:
            return
        user.device.supervisor_monitoring = None
        self.publish_device(user)

    # -- device availability ----------------------------------------------------------------------

    def set_device_state(self, user: User, device_state: str) -> None:
        """``deviceState`` ``Active`` / ``Inactive``; a DeviceStateChangeMessage when it changes."""
        if user.device.state == device_state:
            return
        user.device.state = device_state
        self.publish_device(user)

    def set_voice_available(self, available: bool) -> None:
        """The Voice service went down or came back: the devices in use go Inactive / Active.

        ``/v2/me/devices`` is where GWS reports "the availability of a user's devices"
        (003:4776); a device no session uses (after EndContactCenterSession) stays Inactive.
        """
        for user in self.state.users.values():
            if not user.device.assigned:
                continue  # not in use: stays Inactive, nothing to tell
            self.set_device_state(user, "Active" if available else "Inactive")

    # -- session and password ---------------------------------------------------------------------

    def start_session(self, user: User) -> None:
        """Assign the device (Active) and log the agent in (NotReady) when logged out; nothing
        is published when the agent was logged in already (002:10281)."""
        if user.device.user_state.state == "LoggedOut":
            user.device.assigned = True
            user.device.state = "Active"
            state = agent_state_by_operation("NotReady")
            assert state is not None
            self.set_voice_state(user, state)

    @staticmethod
    def end_session(user: User) -> None:
        """Log the device out and unassign it (Inactive); GWS sends no notification for
        EndContactCenterSession (002:10358)."""
        state = agent_state_by_operation("Offline")
        assert state is not None
        user.device.user_state = state
        user.device.assigned = False
        user.device.state = "Inactive"

    def change_password(self, user: User, body: dict[str, Any]) -> None:
        """Check ``oldPassword`` (base64) and set ``newPassword``; the outcome goes to ``/v2/me``."""
        old_b64, new_b64 = str(require(body, "oldPassword")), str(require(body, "newPassword"))
        try:
            old = base64.b64decode(old_b64, validate=True).decode()
            new = base64.b64decode(new_b64, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OperationError(1, "oldPassword and newPassword must be base64") from None
        if old != user.password:
            message = self.builder.password_message(2, "Did not enter old password correctly")
        elif len(new) < 1:
            message = self.builder.password_message(1, "Password does not meet security guidelines")
        else:
            user.password = new
            message = self.builder.password_message()
        self.publish(TOPIC_ME, message, user.user_name)
