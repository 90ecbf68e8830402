"""Framework-neutral HTTP request and response (the aiohttp adapter only translates to these)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["InboundRequest", "InboundResponse"]


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
