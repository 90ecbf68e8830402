"""A typing shim: redis-py annotates some asyncio commands as ``Awaitable[T] | T``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["awaited"]

T = TypeVar("T")


async def awaited(value: Awaitable[T] | T) -> T:
    """The command's result, whether redis-py typed it as awaitable or not."""
    if inspect.isawaitable(value):
        return await value
    return value
