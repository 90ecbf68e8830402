"""``agent.*``, ``device.*`` and ``channel.state_changed``: the agent's voice device and media channels.

Agent-level changes are on the subject ``agent/<agent>`` (one ordered stream
per agent) and carry the device they were seen on (:class:`DeviceFields`).
"""

from __future__ import annotations

from typing import Literal

from bridge.event_data.base import GwsEventData

__all__ = [
    "AgentDndChanged",
    "AgentForwardingChanged",
    "AgentMonitoringChanged",
    "AgentStateChanged",
    "AgentStateFields",
    "ChannelStateChanged",
    "DeviceError",
    "DeviceFields",
    "DeviceStateChanged",
]


class DeviceFields(GwsEventData):
    """The voice device a change was reported on."""

    subject_pattern = r"^agent/.+$"

    device_id: str
    """The GWS device id."""
    phone_number: str | None
    """The device's number (DN)."""
    e164: str | None
    """The number in E.164 form, when GWS gives it."""
    device_state: str | None
    """``Active`` or ``Inactive``, as GWS spells it."""
    capabilities: list[str]
    """What the agent can do on the device now, sorted."""


class AgentStateFields(GwsEventData):
    """An agent state (GWS ``userState``), now and before: on the voice device or a media channel."""

    state: str | None
    """The agent state: ``Ready``, ``NotReady``, ``LoggedOut`` (every GWS spelling of logged out
    becomes ``LoggedOut``), …"""
    work_mode: str | None
    """``AuxWork``, ``AfterCallWork``, … (``workMode``)."""
    reason: str | None
    """The not-ready reason (``reason`` or ``reasonCode``)."""
    agent_state_id: str | None
    """The id of the configured agent state."""
    display_name: str | None
    """The agent state's display name (``Not Ready``, ``Training``, …)."""
    previous_state: str | None
    """``state`` before; ``null`` on the first sight."""
    previous_work_mode: str | None
    """``work_mode`` before."""
    previous_reason: str | None
    """``reason`` before."""


class AgentStateChanged(DeviceFields, AgentStateFields):
    pass


class AgentDndChanged(DeviceFields):
    device_id: str | None  # type: ignore[assignment]  # null when a channel reported it
    """The device id; ``null`` when a media channel reported it (``scope`` ``channel``)."""
    channel: str | None
    """The media channel (``email``, ``chat``, ``all``) when ``scope`` is ``channel``."""
    dnd: bool
    """Do-not-disturb is on."""
    scope: Literal["device", "channel"]
    """Whether the voice device or a media channel reported it."""


class AgentForwardingChanged(DeviceFields):
    forwarding: bool
    """Calls are forwarded."""
    forward_to: str | None
    """Where to, while ``forwarding``."""


class AgentMonitoringChanged(DeviceFields):
    monitoring_state: str | None
    """``Monitor``, ``Coach``, ``BargeIn``, …; ``null`` once monitoring stopped."""
    monitoring_mode: str | None
    """``NextCall``, ``AllCalls``, …"""
    monitoring_scope: str | None
    """``Call`` or ``Agent``."""
    target_device_id: str | None
    """The monitored device."""
    previous_monitoring_state: str | None
    """``monitoring_state`` before."""


class DeviceStateChanged(DeviceFields):
    subject_pattern = r"^device/.+$"

    device_state: str
    """The new device state."""
    previous_device_state: str | None
    """The device state before; ``null`` on the first sight."""


class DeviceError(GwsEventData):
    """An asynchronous error GWS reported for an operation on a device."""

    subject_pattern = r"^device/.+$"

    device_id: str
    """The device the operation was on."""
    phone_number: str | None
    """The device's number, when the bridge has seen it."""
    error_message: str | None
    """GWS's error text (``Invalid Called Dn``, …)."""
    error_code: str | None
    """GWS's error code."""


class ChannelStateChanged(AgentStateFields):
    """The agent's state on one media channel (``/v2/me/channels``)."""

    subject_pattern = r"^channel/.+/.+$"

    channel: str
    """The media: ``email``, ``chat``, …, or ``all`` for the ``/me`` message that names none."""
