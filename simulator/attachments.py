"""The Attachments API (003:2648-2673): documents attached to an e-mail interaction.

``POST /me/interactions/{id}/attachments`` takes one file as multipart form data, bound to the
``attachment`` variable, and answers ``{"statusCode":0,"documentId":…}``; ``GET …/{documentId}``
returns the bytes with their MIME type; ``DELETE …/{documentId}`` answers ``{"statusCode":0}``.
Only the agent that owns the interaction may touch its attachments.
"""

from __future__ import annotations

import secrets
from email import policy
from email.parser import BytesParser

from aiohttp import web

from simulator.auth import user_of
from simulator.envelopes import Envelope, OperationError, failure_body, success_body
from simulator.model import Attachment, Interaction, MediaChannel
from simulator.replies import json_response

__all__ = ["add_attachment_routes"]

_MAX_BYTES = 2 * 1024 * 1024


def _interaction(request: web.Request) -> Interaction:
    interaction = user_of(request).interactions.get(request.match_info["interaction_id"])
    if interaction is None:
        raise OperationError(6, f"Interaction {request.match_info['interaction_id']} not found")
    if interaction.channel is not MediaChannel.EMAIL:
        raise OperationError(2, "Attachments belong to e-mail interactions")
    return interaction


def _fail(error: OperationError) -> web.Response:
    return json_response(failure_body(Envelope.S0, error), error.http_status)


async def post_attachment(request: web.Request) -> web.Response:
    try:
        interaction = _interaction(request)
        if not request.content_type.startswith("multipart/form-data"):
            raise OperationError(1, "Send the file as multipart/form-data")
        # The request log has read the body already: parse the bytes (stdlib MIME parser).
        raw = await request.read()
        head = f"Content-Type: {request.headers['Content-Type']}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + raw)
        parts = (
            [
                p
                for p in message.iter_parts()
                if p.get_param("name", header="content-disposition") == "attachment"
            ]
            if message.is_multipart()
            else []
        )
        if len(parts) != 1 or not parts[0].get_filename():
            raise OperationError(1, "The file should be bound to the 'attachment' variable")
        part = parts[0]
        content = part.get_payload(decode=True) or b""
        if len(content) > _MAX_BYTES:
            raise OperationError(1, f"Attachment larger than {_MAX_BYTES} bytes")
        document_id = secrets.token_hex(8).upper()
        interaction.attachments[document_id] = Attachment(
            str(part.get_filename()), part.get_content_type(), bytes(content)
        )
    except OperationError as error:
        return _fail(error)
    return json_response(success_body(Envelope.S0, documentId=document_id))


async def get_attachment(request: web.Request) -> web.Response:
    try:
        attachment = _interaction(request).attachments.get(request.match_info["document_id"])
        if attachment is None:
            raise OperationError(6, f"Attachment {request.match_info['document_id']} not found")
    except OperationError as error:
        return _fail(error)
    return web.Response(body=attachment.content, content_type=attachment.mime_type)


async def delete_attachment(request: web.Request) -> web.Response:
    try:
        interaction = _interaction(request)
        if interaction.attachments.pop(request.match_info["document_id"], None) is None:
            raise OperationError(6, f"Attachment {request.match_info['document_id']} not found")
    except OperationError as error:
        return _fail(error)
    return json_response(success_body(Envelope.S0))


def add_attachment_routes(app: web.Application, api: str) -> None:
    item = f"{api}/me/interactions/{{interaction_id}}/attachments"
    app.router.add_post(item, post_attachment)
    app.router.add_get(f"{item}/{{document_id}}", get_attachment)
    app.router.add_delete(f"{item}/{{document_id}}", delete_attachment)
