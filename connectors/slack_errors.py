"""What a Slack Web API or incoming-webhook failure means for delivery (pure).

HTTP 429 / ``ratelimited`` → retryable after Slack's ``Retry-After``; authentication, scope and
channel errors → permanent, and the destination is disabled; a message Slack rejects as malformed
→ permanent for that event only; a deleted thread root → :class:`RootGone` (the connector starts
the thread again); anything else → retryable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bridge.errors import DeliveryError, PermanentDeliveryError, RetryableDeliveryError
from connectors.webhook import parse_retry_after

__all__ = ["RootGone", "api_failure", "delivery_error", "retry_after_of"]

# Errors that no retry fixes: configuration (token, scopes, channel) must change first.
_DISABLE_ERRORS = frozenset(
    {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
        "no_permission", "missing_scope", "team_access_not_granted", "channel_not_found",
        "is_archived", "not_in_channel", "restricted_action", "ekm_access_denied",
    }
)  # fmt: skip
# Errors about this one message: dead-letter it, keep the destination.
_MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
        "invalid_attachments", "invalid_arguments", "invalid_form_data", "invalid_payload",
    }
)  # fmt: skip
_ROOT_GONE = frozenset({"message_not_found", "cant_update_message", "thread_not_found"})


class RootGone(PermanentDeliveryError):
    """The thread's root message no longer exists (deleted in Slack)."""


def retry_after_of(headers: Mapping[str, Any] | None) -> str | None:
    """The ``Retry-After`` header, whatever its case."""
    return next((str(v) for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)


def api_failure(exc: SlackApiError) -> tuple[int, str, str | None]:
    """``(HTTP status, Slack's error code, Retry-After)`` of a Web API failure."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    return status, error, retry_after_of(getattr(response, "headers", None))


def delivery_error(detail: str, status: int, error: str, retry_after: str | None) -> DeliveryError:
    """The delivery error for a failure (``detail`` names the destination and method, no secret)."""
    if status == 429 or error == "ratelimited":
        delay = parse_retry_after(retry_after)
        return RetryableDeliveryError(detail, retry_after=1.0 if delay is None else delay)
    if error in _ROOT_GONE:
        return RootGone(f"{detail} (root message gone)")
    if error in _DISABLE_ERRORS or status in (401, 403, 404, 410):
        return PermanentDeliveryError(detail, disable_destination=True)
    if error in _MESSAGE_ERRORS or status == 400:
        return PermanentDeliveryError(detail)
    return RetryableDeliveryError(detail)
