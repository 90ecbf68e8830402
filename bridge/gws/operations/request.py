"""What one GWS operation is: the request to send, and how its outcome shows.

Pure: nothing here talks to GWS. A builder in :mod:`bridge.gws.operations.builders` returns an
:class:`Operation` (a :class:`GwsRequest` plus an :class:`OutcomeRule`); the REST client sends
the request (:meth:`bridge.gws.rest.GwsRestClient.perform`) and the inbound receiver waits for
the notification the rule describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote

__all__ = [
    "SYNC",
    "FileUpload",
    "GwsRequest",
    "Operation",
    "OutcomeRule",
    "api_uri",
    "operation_body",
    "phone_number",
    "segment",
]


@dataclass(frozen=True)
class FileUpload:
    """A file sent as ``multipart/form-data`` bound to ``variable`` (GWS's Attachments API)."""

    variable: str
    file_name: str
    mime_type: str
    content: bytes = field(repr=False)

    def multipart(self, boundary: str) -> tuple[bytes, str]:
        """The encoded body and its ``Content-Type``; ``file_name`` and ``mime_type`` must not
        hold quotes or line breaks (the command's parameters are checked for that)."""
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{self.variable}"; '
            f'filename="{self.file_name}"\r\nContent-Type: {self.mime_type}\r\n\r\n'
        )
        body = head.encode() + self.content + f"\r\n--{boundary}--\r\n".encode()
        return body, f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class GwsRequest:
    """One GWS REST request; ``path`` is relative to ``/api/v2``; ``params`` is the query;
    ``upload`` is a file sent instead of a JSON body."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    upload: FileUpload | None = None


@dataclass(frozen=True)
class OutcomeRule:
    """How the CometD outcome of an accepted operation is recognised.

    ``synchronous`` rules are settled by the REST reply alone. Otherwise a
    ``CallStateChangeMessage`` about ``call_id`` (any call when ``call_id`` is
    None) whose state is in ``call_states`` or whose notificationType is in
    ``notification_types`` (and, if set, whose ``call_attribute`` has that value)
    means success, as does a ``DeviceStateChangeMessage`` / channel message
    matching ``user_state`` / ``work_mode`` / ``dnd`` / ``channel``, or a device
    whose ``device_attribute`` (a dotted path; value ``None``: absent) has that
    value. An ``ErrorMessage`` whose ``callUri`` names ``call_id`` means failure;
    one without ``callUri`` fails the oldest pending command whose rule has
    ``device_errors``. A rule that names nothing to wait for (GWS documents no
    notification) is settled ``unknown`` unless an ``ErrorMessage`` fails it.

    ``password_change`` rules wait for the ``/v2/me`` notification (003:4676-4682):
    ``PasswordChangeSuccessful`` means success, ``PasswordChangeError`` failure (the reply only
    says GWS took the request).

    ``note``, when set, is filed for the agent's subscriber once GWS has accepted the
    request: it tells of a change GWS may never notify (a disposition on a released call),
    which the subscriber then reports itself (``bridge.normalize.dispositions``).
    """

    synchronous: bool = False
    call_id: str | None = None
    call_states: frozenset[str] = frozenset()
    notification_types: frozenset[str] = frozenset()
    recording_state: str | None = None
    call_attribute: tuple[str, Any] | None = None
    user_state: str | None = None
    work_mode: str | None = None
    dnd: str | None = None
    channel: str | None = None
    device_attribute: tuple[str, Any] | None = None
    device_errors: bool = False
    password_change: bool = False
    note: Mapping[str, Any] | None = None


SYNC = OutcomeRule(synchronous=True)


class Operation(NamedTuple):
    """A built operation: what to send, and what confirms it. Unpacks as ``request, rule``."""

    request: GwsRequest
    outcome: OutcomeRule


def segment(value: str) -> str:
    """One path segment; ids come from outside (commands), so they are escaped. ValueError if empty."""
    if not value:
        raise ValueError("an id in a GWS path must not be empty")
    return quote(str(value), safe="")


def operation_body(operation_name: str, **params: Any) -> dict[str, Any]:
    """``{"operationName": …, **params}`` without the parameters that are ``None``."""
    body: dict[str, Any] = {"operationName": operation_name}
    body.update({key: value for key, value in params.items() if value is not None})
    return body


def phone_number(destination: str) -> dict[str, str]:
    """A call destination as GWS 8.5.2 wants it: ``{"phoneNumber": …}``."""
    return {"phoneNumber": destination}


def api_uri(base_url: str, path: str) -> str:
    """The absolute URI GWS names a resource by (``callUri``, ``otherCallUri``, a workbin
    interaction's ``uri``): ``base_url`` (the GWS root) + ``/api/v2`` + ``path``. The seeds'
    samples always send absolute URIs."""
    return f"{base_url.rstrip('/')}/api/v2{path}"
