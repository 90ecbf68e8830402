"""E-mail attachments (003:2648-2673): documents added to and removed from an e-mail interaction.

Not ``operationName`` requests: the file is ``multipart/form-data`` bound to ``attachment`` on
``/me/interactions/{id}/attachments`` (a regular HTTP request, "not for AJAX"); GWS answers with
the new ``documentId``, and ``DELETE …/attachments/{documentId}`` removes one. The seeds define
no notification for either, so both are settled by the reply.
"""

from __future__ import annotations

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import SYNC, FileUpload, GwsRequest, Operation, segment

__all__ = ["add_attachment", "delete_attachment"]

_ATTACHMENTS = "/me/interactions/{interaction}/attachments"


def _attachments(interaction_id: str) -> str:
    return f"/me/interactions/{segment(interaction_id)}/attachments"


@operation(
    "interaction.AddAttachment",
    "POST",
    _ATTACHMENTS,
    name=None,
    confirms='the reply ({"statusCode":0,"documentId":…}); no notification',
    source="003:2658-2666",
)
def add_attachment(interaction_id: str, file_name: str, content: bytes, mime_type: str) -> Operation:
    """Attach ``content`` as ``file_name`` to an e-mail interaction (a reply being composed)."""
    upload = FileUpload("attachment", file_name, mime_type, content)
    return Operation(GwsRequest("POST", _attachments(interaction_id), upload=upload), SYNC)


@operation(
    "interaction.DeleteAttachment",
    "DELETE",
    f"{_ATTACHMENTS}/{{attachment}}",
    name=None,
    confirms='the reply ({"statusCode":0}); no notification',
    source="003:2668-2673",
)
def delete_attachment(interaction_id: str, attachment_id: str) -> Operation:
    """Remove the document ``attachment_id`` (its ``documentId``) from the interaction."""
    return Operation(GwsRequest("DELETE", f"{_attachments(interaction_id)}/{segment(attachment_id)}"), SYNC)
