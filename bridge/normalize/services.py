"""GWS services: ``ServiceStateChangeMessage`` on ``/notifications/services``.

``data.service`` is an object (or, as in ``GET /services/{id}``, a one-item
array; quirk A8). Subject: ``service/<id>`` (the type or name when there is
no id). The first sight of a service is reported too: these messages only
arrive when something changed.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_str

__all__ = ["normalize_service"]


def normalize_service(ctx: Context, msg: dict[str, Any]) -> bool:
    """Emit ``service.state_changed`` when the service's state changed; ``False`` without a service."""
    service = msg.get("service")
    if isinstance(service, list):
        service = service[0] if service else None
    if not isinstance(service, dict):
        return False
    state = as_str(service.get("state"))
    key = as_str(service.get("id")) or as_str(service.get("type")) or as_str(service.get("name"))
    if key is None or state is None:
        return False
    subject = "service/" + key
    record_old = ctx.state.get(subject) or {}
    if record_old.get("state") == state:
        return True
    record = dict(record_old)
    data = {
        "agent": ctx.agent,
        "service_id": as_str(service.get("id")),
        "service_name": as_str(service.get("name")),
        "service_type": as_str(service.get("type")),
        "state": state,
        "previous_state": record_old.get("state"),
        "available": state in ("Active", "ReadOnly"),
    }
    ctx.emit(EventType.SERVICE_STATE_CHANGED, subject, data, change=state, record=record)
    record["state"] = state
    ctx.state.set(subject, record)
    return True
