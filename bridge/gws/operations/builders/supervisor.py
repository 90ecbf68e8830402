"""Supervisor monitoring on the supervisor's own device (catalogue §7). GWS enforces the
supervisor role: an agent without it gets a refusal (or an ``ErrorMessage``)."""

from __future__ import annotations

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import GwsRequest, Operation, OutcomeRule, api_uri, operation_body, segment

__all__ = ["cancel_supervisor_monitoring", "monitor"]

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
