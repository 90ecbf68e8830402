"""Reading wire bytes: orjson first, the standard library for what orjson refuses.

Everything that leaves the normalizer must serialize with orjson
(``Event.to_json``): integers beyond 64 bits, non-string keys, nesting
deeper than orjson writes, and non-JSON Python objects are made safe here.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from bridge.errors import NormalizationError

__all__ = ["jsonable", "parse_wire"]

_MAX_DEPTH = 200
_INT_LIMIT = 1 << 63


def parse_wire(message: bytes | bytearray | memoryview | str) -> Any:
    """Parse one wire delivery; :class:`NormalizationError` when it is not JSON at all."""
    try:
        parsed = orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        error: Exception = exc
    else:
        return jsonable(parsed)  # orjson reads 1024 levels but writes only 254
    # valid JSON orjson refuses: 1e400, nesting deeper than 1024, lone surrogates
    text = message if isinstance(message, str) else bytes(message).decode("utf-8", "replace")
    try:
        return jsonable(json.loads(text))
    except RecursionError:
        # valid JSON nested deeper than any parser here goes: keep the start of the text
        return {"unparsed": text[:4096], "reason": "nested too deep to parse"}
    except ValueError as exc:
        error = exc
    sample = bytes(message[:60]) if not isinstance(message, str) else message[:60]
    raise NormalizationError(f"wire message is not JSON ({error}); starts with {sample!r}") from error


def jsonable(value: Any) -> Any:
    """``value`` itself when orjson can write it, else a sanitized copy."""
    try:
        orjson.dumps(value)
        return value
    except (TypeError, orjson.JSONEncodeError):
        return _sanitize(value, 0)


def _sanitize(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -_INT_LIMIT <= value < _INT_LIMIT else str(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {_text(str(k)): _sanitize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(v, depth + 1) for v in value]
    return repr(value)


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:  # lone surrogates
        return value.encode("utf-8", "replace").decode("utf-8")
