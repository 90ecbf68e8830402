"""Notification payloads and REST resource bodies, shaped like the seed samples.

One builder per simulator (it knows the base URL used in ``uri``/``deviceUri``). The same
functions serve CometD notifications and REST reads (``/me/calls?fields=*`` returns the call
objects a ``CallStateChangeMessage`` carries), so what a client rebuilds after a reconnect is
exactly what it would have seen live.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from simulator.defaults import VOICE_ENVIRONMENT_ID
from simulator.model import Call, CallState, Device, User

__all__ = [
    "TOPIC_CALLS",
    "TOPIC_CHANNELS",
    "TOPIC_DEVICES",
    "TOPIC_INTERACTIONS",
    "TOPIC_ME",
    "TOPIC_SERVICES",
    "TOPIC_WORKBINS",
    "MessageBuilder",
    "Publish",
]

TOPIC_CALLS = "/v2/me/calls"
TOPIC_DEVICES = "/v2/me/devices"
TOPIC_CHANNELS = "/v2/me/channels"
TOPIC_INTERACTIONS = "/v2/me/interactions"
TOPIC_WORKBINS = "/v2/me/workbins"
TOPIC_ME = "/v2/me"
TOPIC_SERVICES = "/notifications/services"


class MessageBuilder:
    """Builds GWS JSON for one simulator; ``base_url`` is ``http://host:port`` (no trailing slash)."""

    def __init__(self, base_url: str, voice_filters: dict[str, list[dict[str, str]]]) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = f"{self.base_url}/api/v2"
        self.toast_filter = voice_filters.get("toast-filter", [])
        self.case_filter = voice_filters.get("case-filter", [])

    # -- URIs -------------------------------------------------------------------------------------

    def device_uri(self, device_id: str) -> str:
        return f"{self.api}/devices/{device_id}"

    def call_uri(self, call_id: str) -> str:
        return f"{self.api}/me/calls/{call_id}"

    def global_call_uri(self, call_id: str) -> str:
        """The ``/api/v2/calls/{id}`` flavour used in ErrorMessage and SetCallDisposition (quirk D7)."""
        return f"{self.api}/calls/{call_id}"

    def user_uri(self, user: User) -> str:
        return f"{self.api}/users/{user.id}"

    def interaction_uri(self, interaction_id: str) -> str:
        return f"{self.api}/interactions/{interaction_id}"

    def workbin_interaction_uri(self, workbin_id: str, interaction_id: str) -> str:
        return f"{self.api}/me/workbins/{workbin_id}/interactions/{interaction_id}"

    # -- voice ------------------------------------------------------------------------------------

    def call_json(
        self, call: Call, capabilities: list[str], device_id: str, now: float | None = None
    ) -> dict[str, Any]:
        """The call resource (8.5.2 shape): what notifications and ``/me/calls?fields=*`` carry."""
        body: dict[str, Any] = {
            "id": call.id,
            "state": call.state.value,
            "callUuid": call.call_uuid,
            "deviceUri": self.device_uri(device_id),
            "uri": self.call_uri(call.id),
            "participants": list(call.participants),
            "participantsInfo": [
                {"digits": number, "e164Number": number, "formattedPhoneNumber": number}
                for number in call.participants
            ],
            "dnis": call.dnis,
            "callType": call.call_type.value,
            "capabilities": capabilities,
        }
        if call.user_data is not None:
            body["userData"] = dict(call.user_data)
            if call.state in (CallState.RINGING, CallState.DIALING):
                toast = self._filtered(call.user_data, self.toast_filter)
                if toast:
                    body["toast"] = toast
            elif call.state in (CallState.ESTABLISHED, CallState.HELD):
                case = self._filtered(call.user_data, self.case_filter)
                if case:
                    body["case"] = case
        if call.parent_call_id is not None:
            body["parentCallUri"] = self.call_uri(call.parent_call_id)
        body["duration"] = str(call.duration(now if now is not None else time.monotonic()))
        body["mute"] = "On" if call.mute else "Off"
        body["supervisorListeningIn"] = call.supervisor_listening_in
        body["monitoredUserMuted"] = call.monitored_user_muted
        body["monitoring"] = call.monitoring
        if call.recording_state is not None:
            body["recordingState"] = call.recording_state
        return body

    @staticmethod
    def _filtered(user_data: dict[str, Any], rules: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {
                "key": rule["attachedDataKey"],
                "displayName": rule["displayName"],
                "value": user_data[rule["attachedDataKey"]],
            }
            for rule in rules
            if rule["attachedDataKey"] in user_data
        ]

    def call_message(
        self, notification_type: str, call_body: dict[str, Any], phone_number: str
    ) -> dict[str, Any]:
        return {
            "messageType": "CallStateChangeMessage",
            "notificationType": notification_type,
            "call": call_body,
            "phoneNumber": phone_number,
        }

    def error_message(self, device_id: str, error: str, call_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"messageType": "ErrorMessage", "deviceUri": self.device_uri(device_id)}
        if call_id is not None:
            body["callUri"] = self.global_call_uri(call_id)
        body["errorMessage"] = error
        return body

    def device_json(self, user: User) -> dict[str, Any]:
        device: Device = user.device
        body: dict[str, Any] = {
            "id": device.id,
            "deviceState": device.state,
            "userState": device.user_state.as_json(),
            "phoneNumber": device.phone_number,
            "e164Number": device.phone_number,
            "telephonyNetwork": device.telephony_network,
            "doNotDisturb": "On" if device.do_not_disturb else "Off",
        }
        if device.forward_to is not None:
            body["forwardTo"] = device.forward_to
        body["voiceEnvironmentUri"] = f"{self.api}/voice-environments/{VOICE_ENVIRONMENT_ID}"
        capabilities = ["ForwardCallsOff" if device.forward_to is not None else "ForwardCallsOn"]
        capabilities.append("DoNotDisturbOff" if device.do_not_disturb else "DoNotDisturbOn")
        if "ROLE_SUPERVISOR" in user.roles:
            capabilities += ["ListenIn", "Coach", "BargeIn"]
            if device.supervisor_monitoring is not None:
                capabilities.append("CancelSupervisorMonitoring")
        body["capabilities"] = capabilities
        if device.supervisor_monitoring is not None:
            body["supervisorMonitoringState"] = dict(device.supervisor_monitoring)
        return body

    def device_message(self, user: User) -> dict[str, Any]:
        return {"messageType": "DeviceStateChangeMessage", "devices": [self.device_json(user)]}

    # -- channels ---------------------------------------------------------------------------------

    @staticmethod
    def channel_json(user: User, channel: str) -> dict[str, Any]:
        state = user.channels[channel]
        return {"channel": channel, "userState": state.user_state.as_json()}

    def channels_message(self, user: User, channels: list[str]) -> dict[str, Any]:
        """``/v2/me/channels`` payload: the seed nests it as ``data.data.channels`` (no messageType)."""
        return {"data": {"channels": [self.channel_json(user, channel) for channel in channels]}}

    @staticmethod
    def dnd_channels_message(user: User) -> dict[str, Any]:
        """The DND channel message: no channel name, as in ``cometd_channels_dnd_On.json``."""
        return {
            "data": {
                "channels": [
                    {
                        "dndState": "On" if user.device.do_not_disturb else "Off",
                        "userState": user.device.user_state.as_json(),
                    }
                ]
            }
        }

    # -- services and user ------------------------------------------------------------------------

    @staticmethod
    def service_message(service_id: str, name: str, service_type: str, state: str) -> dict[str, Any]:
        return {
            "messageType": "ServiceStateChangeMessage",
            "service": {"id": service_id, "name": name, "type": service_type, "state": state},
        }

    @staticmethod
    def password_message(error_code: int | None = None, error: str | None = None) -> dict[str, Any]:
        if error_code is None:
            return {"notificationType": "PasswordChangeSuccessful"}
        return {"notificationType": "PasswordChangeError", "errorMessage": error, "errorCode": error_code}


class Publish(Protocol):
    """Deliver ``data`` on CometD ``channel`` to the clients of ``user`` (None = every client)."""

    def __call__(self, channel: str, data: dict[str, Any], user: str | None) -> int: ...
