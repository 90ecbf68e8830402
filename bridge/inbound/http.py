"""Framework-neutral HTTP request and response (the aiohttp adapter only translates to these)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bridge.inbound.problems import Problem

__all__ = ["InboundRequest", "InboundResponse", "require_json_content_type"]

_UTF8 = {"utf-8", "utf8"}


def require_json_content_type(content_type: str | None, *, media: bool = True) -> None:
    """Raise :class:`Problem` 415 unless ``content_type`` is JSON in UTF-8.

    ``application/json`` or any ``+json`` type (with ``media=False``, any type: the device
    registry has never asked for one), without a ``charset`` or with ``charset=utf-8``: JSON is
    UTF-8 (RFC 8259), and a body announced as, say, UTF-16 would otherwise be read as UTF-8.
    """
    kind, *parameters = (content_type or "").split(";")
    kind = kind.strip().lower()
    if media and kind != "application/json" and not kind.endswith("+json"):
        raise Problem(415, "send application/json", kind="unsupported-media-type")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise Problem(
                415, "JSON bodies are UTF-8: send charset=utf-8 or none", kind="unsupported-media-type"
            )


@dataclass(frozen=True)
class InboundRequest:
    """An HTTP request, framework-neutral; ``headers`` must look up names case-insensitively."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class InboundResponse:
    """An HTTP response, framework-neutral."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, document: Any, headers: dict[str, str] | None = None) -> InboundResponse:
        return cls(status, orjson.dumps(document), "application/json", headers or {})
