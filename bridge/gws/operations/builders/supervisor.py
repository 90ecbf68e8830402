"""Supervisor monitoring (catalogue §7): on the supervisor's own device, and on the monitored call
(barge in, listen in, mute the monitored agent). GWS enforces the supervisor role: an agent
without it gets a refusal (or an ``ErrorMessage``)."""

from __future__ import annotations

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.builders.voice import CALL, CALLS, call_operation
from bridge.gws.operations.request import GwsRequest, Operation, OutcomeRule, api_uri, operation_body, segment

__all__ = [
    "cancel_supervisor_monitoring",
    "monitor",
    "mute_monitored_user",
    "switch_to_barge_in",
    "switch_to_listen_in",
    "unmute_monitored_user",
]

MONITORING_MODES = ("ListenIn", "Coach", "BargeIn")


def _monitor(
    mode: str,
    device_id: str,
    target_device_id: str,
    *,
    base_url: str,
    scope: str | None,
    monitoring_mode: str | None,
) -> Operation:
    body = operation_body(
        mode,
        targetDeviceUri=api_uri(base_url, f"/devices/{segment(target_device_id)}"),
        supervisorMonitoringScope=scope,
        supervisorMonitoringMode=monitoring_mode,
    )
    rule = OutcomeRule(device_attribute=("supervisorMonitoringState.state", mode), device_errors=True)
    return Operation(GwsRequest("POST", f"/me/devices/{segment(device_id)}", body), rule)


def monitor(
    mode: str,
    device_id: str,
    target_device_id: str,
    *,
    base_url: str,
    scope: str | None = None,
    monitoring_mode: str | None = None,
) -> Operation:
    """``ListenIn``, ``Coach`` or ``BargeIn`` the agent on ``target_device_id``; ``scope`` is
    ``Agent`` | ``Call`` (GWS default ``Call``), ``monitoring_mode`` ``NextCall`` | ``AllCalls``
    (default ``AllCalls``). ValueError for another ``mode``."""
    if mode not in MONITORING_MODES:
        raise ValueError(f"unknown supervisor monitoring mode {mode!r}")
    return OPERATION_BUILDERS[mode](
        device_id, target_device_id, base_url=base_url, scope=scope, monitoring_mode=monitoring_mode
    )


_CONFIRMS = "/v2/me/devices DeviceStateChangeMessage: supervisorMonitoringState.state {}"


@operation(
    "device.ListenIn",
    "POST",
    "/me/devices/{device}",
    confirms=_CONFIRMS.format("ListenIn"),
    source="002:9363-9477",
)
def listen_in(
    device_id: str,
    target_device_id: str,
    *,
    base_url: str,
    scope: str | None = None,
    monitoring_mode: str | None = None,
) -> Operation:
    return _monitor(
        "ListenIn",
        device_id,
        target_device_id,
        base_url=base_url,
        scope=scope,
        monitoring_mode=monitoring_mode,
    )


@operation(
    "device.Coach", "POST", "/me/devices/{device}", confirms=_CONFIRMS.format("Coach"), source="002:9479-9583"
)
def coach(
    device_id: str,
    target_device_id: str,
    *,
    base_url: str,
    scope: str | None = None,
    monitoring_mode: str | None = None,
) -> Operation:
    return _monitor(
        "Coach", device_id, target_device_id, base_url=base_url, scope=scope, monitoring_mode=monitoring_mode
    )


@operation(
    "device.BargeIn",
    "POST",
    "/me/devices/{device}",
    confirms=_CONFIRMS.format("BargeIn"),
    source="002:9585-9683",
)
def barge_in(
    device_id: str,
    target_device_id: str,
    *,
    base_url: str,
    scope: str | None = None,
    monitoring_mode: str | None = None,
) -> Operation:
    return _monitor(
        "BargeIn",
        device_id,
        target_device_id,
        base_url=base_url,
        scope=scope,
        monitoring_mode=monitoring_mode,
    )


OPERATION_BUILDERS = {"ListenIn": listen_in, "Coach": coach, "BargeIn": barge_in}


@operation(
    "device.CancelSupervisorMonitoring",
    "POST",
    "/me/devices/{device}",
    confirms="/v2/me/devices DeviceStateChangeMessage: supervisorMonitoringState gone",
    source="002:9685-9769",
)
def cancel_supervisor_monitoring(device_id: str) -> Operation:
    rule = OutcomeRule(device_attribute=("supervisorMonitoringState.state", None), device_errors=True)
    request = GwsRequest(
        "POST", f"/me/devices/{segment(device_id)}", operation_body("CancelSupervisorMonitoring")
    )
    return Operation(request, rule)


# -- on the monitored call ----------------------------------------------------------------------


@operation(
    "call.SwitchToBargeIn", "POST", CALL, confirms=f"{CALLS} StatusChange, mute Off", source="002:9771-9882"
)
def switch_to_barge_in(call_id: str) -> Operation:
    return call_operation(call_id, "SwitchToBargeIn", attribute=("mute", "Off"))


@operation(
    "call.SwitchToListenIn", "POST", CALL, confirms=f"{CALLS} StatusChange, mute On", source="002:9884-9990"
)
def switch_to_listen_in(call_id: str) -> Operation:
    return call_operation(call_id, "SwitchToListenIn", attribute=("mute", "On"))


@operation(
    "call.MuteMonitoredUser",
    "POST",
    CALL,
    confirms=f"{CALLS} MonitoredUserMutedStateChange, monitoredUserMuted true",
    source="002:9992-10108",
)
def mute_monitored_user(call_id: str) -> Operation:
    return call_operation(
        call_id,
        "MuteMonitoredUser",
        types=frozenset({"MonitoredUserMutedStateChange"}),
        attribute=("monitoredUserMuted", True),
    )


@operation(
    "call.UnmuteMonitoredUser",
    "POST",
    CALL,
    confirms=f"{CALLS} MonitoredUserMutedStateChange, monitoredUserMuted false",
    source="002:10110-10217",
)
def unmute_monitored_user(call_id: str) -> Operation:
    return call_operation(
        call_id,
        "UnmuteMonitoredUser",
        types=frozenset({"MonitoredUserMutedStateChange"}),
        attribute=("monitoredUserMuted", False),
    )
