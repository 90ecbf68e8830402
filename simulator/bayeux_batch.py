"""A batch of Bayeux messages on the wire: what a request body or a websocket frame carries, and
the JSON array a reply is."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

__all__ = ["Message", "encode_batch", "parse_batch"]

Message = dict[str, Any]


def encode_batch(events: list[bytes], replies: list[Message]) -> bytes:
    """One JSON array: the pre-serialized events first, then the meta replies (as GWS sends them)."""
    parts = events + [orjson.dumps(reply, default=str) for reply in replies]
    return b"[" + b",".join(parts) + b"]"


def parse_batch(body: bytes | str, content_type: str) -> list[Any]:
    """The message list of a request body: a JSON array or one JSON object; in a form body, every
    ``message`` field (each an object or an array, Bayeux 1.0 long-polling). Raises ``ValueError``
    saying what is wrong."""
    if content_type == "application/x-www-form-urlencoded":
        text = body.decode() if isinstance(body, bytes) else body
        fields = parse_qs(text).get("message")
        if not fields:
            raise ValueError("form body without a message field")
        return [message for field in fields for message in _decode_messages(field)]
    return _decode_messages(body)


def _decode_messages(body: bytes | str) -> list[Any]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"Malformed JSON: {exc}") from exc
    if isinstance(decoded, dict):
        return [decoded]
    if not isinstance(decoded, list) or not decoded:
        raise ValueError("Expected a non-empty JSON array of messages")
    return decoded
