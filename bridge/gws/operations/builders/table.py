"""The operation table: every GWS operation the bridge can build, registered by its builder.

A builder is a pure function returning an :class:`~bridge.gws.operations.request.Operation`;
``@operation(key, method, path, …)`` puts it in :data:`OPERATIONS` with what the seeds say about
it: the ``operationName`` it sends, which notification confirms it (``confirms``, for people;
the builder's :class:`OutcomeRule` is the same thing for the receiver) and where the seeds
define it (``source``, ``seed:line``). docs/commands.md's operation table and the coverage test
against the simulator both walk this table, so adding an operation is one builder plus its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bridge.gws.operations.request import Operation

__all__ = ["OPERATIONS", "OperationSpec", "operation"]

Builder = TypeVar("Builder", bound=Callable[..., Operation])


@dataclass(frozen=True)
class OperationSpec:
    """One GWS operation: ``key`` is ``<resource>.<operationName>`` (unique; GWS reuses names)."""

    key: str
    method: str
    path: str  # relative to /api/v2, with {placeholders}
    operation_name: str | None  # None: a read, or a POST without operationName
    confirms: str
    source: str
    build: Callable[..., Operation]
    alternate_path: str | None = None  # where the builder may send it instead (a seed's variant)


OPERATIONS: dict[str, OperationSpec] = {}


def operation(
    key: str,
    method: str,
    path: str,
    *,
    confirms: str,
    source: str,
    name: Any = ...,
    alternate_path: str | None = None,
) -> Callable[[Builder], Builder]:
    """Register the decorated builder as ``key``; ``name`` defaults to the part after the dot."""

    def register(build: Builder) -> Builder:
        if key in OPERATIONS:
            raise ValueError(f"operation {key!r} registered twice")
        operation_name = key.rsplit(".", 1)[-1] if name is ... else name
        OPERATIONS[key] = OperationSpec(
            key, method, path, operation_name, confirms, source, build, alternate_path
        )
        return build

    return register
