"""Redis replies as Python values: our clients answer bytes (``decode_responses`` is off).

redis-py types a reply as ``bytes | str`` (or wider, for commands whose shape depends on their
options), so the conversion is one checked function instead of a ``.decode()`` per call site.
"""

from __future__ import annotations

__all__ = ["text"]


def text(value: object) -> str:
    """``value`` (a Redis string reply) as text; raises ``TypeError`` for any other reply."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")
