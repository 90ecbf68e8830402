"""What ``gws-bridge demo`` prints: one line per GWS notification, command and delivered event."""

from __future__ import annotations

import time
from typing import Any

from bridge.demo.sink import ReceivedEvent
from connectors.slack_wallboard_blocks import figure_text, figures

__all__ = ["Terminal", "describe_event", "describe_figures", "describe_notification"]


def describe_notification(message: dict[str, Any]) -> tuple[str, str]:
    """``(kind, state)`` of a GWS notification body: messageType[/notificationType] and a short state."""
    data = message.get("data") or {}
    if isinstance(data.get("data"), dict):  # /v2/me/channels nests its payload (quirk B4)
        data = data["data"]
    kind = str(data.get("messageType") or data.get("messageTypeName") or "")
    if data.get("notificationType"):
        kind = f"{kind}/{data['notificationType']}" if kind else str(data["notificationType"])
    state = ""
    if isinstance(data.get("call"), dict):
        call = data["call"]
        caller = call.get("ani") or ",".join(map(str, call.get("participants") or [])) or "-"
        state = f"{call.get('state')}  call {str(call.get('id', ''))[:8]} with {caller}"
    elif isinstance(data.get("devices"), list) and data["devices"]:
        user_state = data["devices"][0].get("userState") or {}
        state = " ".join(
            str(user_state[key]) for key in ("state", "workMode", "reason") if user_state.get(key)
        )
    elif isinstance(data.get("service"), dict):
        state = f"{data['service'].get('type')} {data['service'].get('state')}"
    elif isinstance(data.get("channels"), list):
        kind = kind or "channels"
        state = ", ".join(
            f"{item.get('channel', 'dnd')} {(item.get('userState') or {}).get('state', item.get('dndState'))}"
            for item in data["channels"]
        )
    elif isinstance(data.get("interaction"), dict) or data.get("messageType") == "InteractionStateMessage":
        interaction = data.get("interaction") or data
        state = f"{interaction.get('state')}  {interaction.get('channel') or interaction.get('type', '')}"
    elif data.get("errorMessage"):
        state = str(data["errorMessage"])
    return kind or "?", state


_SHOWN_FIELDS = (
    "state",
    "previous_state",
    "device_state",
    "previous_device_state",
    "work_mode",
    "reason",
    "ani",
    "channel",
    "service_name",
    "disposition",
)


def describe_event(event: dict[str, Any]) -> str:
    """A short ``key=value`` summary of an event's ``data`` (the fields a person looks at first)."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    parts = [f"{key}={data[key]}" for key in _SHOWN_FIELDS if data.get(key) not in (None, "", [], {})]
    user_data = data.get("user_data")
    if isinstance(user_data, dict) and user_data:
        parts.append("userData=" + ",".join(sorted(user_data)))
    return " ".join(parts)


def describe_figures(data: dict[str, Any]) -> str:
    """A wallboard line of a ``stats.updated`` event: ``Support  Waiting 2 · Longest wait 0:05 · …``
    (the figures as the Slack wallboard shows them; a changed one is marked ``*``)."""
    values = data.get("values") if isinstance(data.get("values"), dict) else {}
    changed = data.get("changed") if isinstance(data.get("changed"), dict) else {}
    assert isinstance(values, dict) and isinstance(changed, dict)
    marked = {figure_text(str(name), value)[0] for name, value in changed.items()}
    parts = [f"{label} {shown}{'*' if label in marked else ''}" for label, shown in figures(values)]
    return f"{data.get('name') or data.get('object_id')}  " + " · ".join(parts)


class Terminal:
    """One line per thing that happens, prefixed with seconds since the start."""

    def __init__(self, quiet_gws: bool) -> None:
        self.started = time.monotonic()
        self.quiet_gws = quiet_gws

    def line(self, text: str) -> None:
        print(f"{time.monotonic() - self.started:7.2f}s  {text}", flush=True)

    def step(self, text: str) -> None:
        self.line(f"── {text}")

    def notification(self, channel: str, data: dict[str, Any], user: str | None) -> None:
        """A simulator observer (``Simulator.observers``): one line per GWS notification."""
        if self.quiet_gws:
            return
        kind, state = describe_notification({"data": data})
        self.line(f"GWS → {user or 'everyone':<10} {channel:<24} {kind:<40} {state}")

    def delivered(self, item: ReceivedEvent) -> None:
        if item.type == "stats.updated":
            self.line(f"BOARD {describe_figures(item.data)}")
            return
        if item.type == "stats.threshold_crossed":
            verdict = "breached" if item.data.get("breached") else "cleared"
            self.line(f"ALERT {item.data.get('name')}: {item.data.get('threshold')} {verdict}")
            return
        latency = item.latency()
        shown = f"{latency * 1000:5.0f} ms" if latency is not None else "     - "
        agent = item.data.get("agent") or item.event.get("partitionkey") or "-"
        subject = str(item.event.get("subject", ""))[:30]
        sequence = str(item.event.get("sequence", "-")).lstrip("0") or "0"  # 20 zero-padded digits
        self.line(
            f"CRM ✓ {item.type:<26} {agent:<10} {subject:<30} seq {sequence:<3} "
            f"signed ✓ {shown}  {describe_event(item.event)}"
        )
