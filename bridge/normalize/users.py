"""Users: password-change notifications on ``/v2/me`` and ``/v2/users``.

``notificationType`` is ``PasswordChangeSuccessful`` or ``PasswordChangeError``
(with ``errorMessage`` and ``errorCode`` 1 = guidelines, 2 = wrong old
password, 3 = internal); on ``/v2/users`` also ``userUri`` and ``userId``.
No messageType is documented. Subject: ``user/<userId>`` (the agent when the
message names no user). The same notification twice in a row is one event:
the messages carry nothing that tells a replay from a repeat.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_str, digest, last_path_segment

__all__ = ["PASSWORD_NOTIFICATIONS", "normalize_user"]

PASSWORD_NOTIFICATIONS = frozenset({"PasswordChangeSuccessful", "PasswordChangeError"})
_ERROR_CODES = {"1": "guidelines", "2": "wrong_old_password", "3": "internal"}


def normalize_user(ctx: Context, msg: dict[str, Any]) -> bool:
    """Emit ``user.password_changed``; ``False`` for any other notificationType."""
    notification = as_str(msg.get("notificationType"))
    if notification not in PASSWORD_NOTIFICATIONS:
        return False
    user_id = as_str(msg.get("userId")) or last_path_segment(msg.get("userUri"))
    subject = "user/" + (user_id or ctx.agent)
    error_code = as_str(msg.get("errorCode"))
    data = {
        "agent": ctx.agent,
        "user_id": user_id,
        "user_uri": as_str(msg.get("userUri")),
        "successful": notification == "PasswordChangeSuccessful",
        "error_code": error_code,
        "error_reason": _ERROR_CODES.get(error_code or ""),
        "error_message": as_str(msg.get("errorMessage")),
    }
    change = digest([notification, error_code, data["error_message"]])
    record_old = ctx.state.get(subject) or {}
    if record_old.get("last") == change:
        return True
    record = dict(record_old)
    record["last"] = change
    ctx.emit(EventType.USER_PASSWORD_CHANGED, subject, data, change=change, record=record)
    ctx.state.set(subject, record)
    return True
