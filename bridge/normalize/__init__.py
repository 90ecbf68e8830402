"""Pure functions turning GWS wire messages into events.

``normalize`` handles one CometD delivery (a Bayeux message or a Bayeux
array); ``normalize_snapshot`` handles the REST state read after a CometD
(re)connect. Both read and update the agent's :class:`NormalizerState` and
return the events for what changed, with deterministic ids (see
``bridge.normalize.context``). Families: ``calls``, ``devices``, ``channels``,
``interactions``, ``workbins``, ``services``, ``users``; identification and
the ``gws.unrecognized`` fallback are in ``dispatch``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.errors import NormalizationError
from bridge.events import Event
from bridge.normalize.context import Context
from bridge.normalize.dispatch import normalize_message, retire_finished
from bridge.normalize.snapshot import Snapshot, recover_snapshot
from bridge.normalize.state import (
    MemoryState,
    NormalizerState,
    StaleStateError,
    StateStoreError,
)
from bridge.normalize.wire import jsonable, parse_wire

__all__ = [
    "MemoryState",
    "NormalizationError",
    "NormalizerState",
    "Snapshot",
    "StaleStateError",
    "StateStoreError",
    "normalize",
    "normalize_snapshot",
]


_WIRE_TYPES = (bytes, str, bytearray, memoryview)


def normalize(
    message: bytes | str | dict[str, Any] | list[Any],
    *,
    agent: str,
    state: NormalizerState,
    source: str = "gws-bridge",
    include_raw: bool = False,
) -> list[Event]:
    """Normalize one wire delivery: a Bayeux message object or a Bayeux array.

    ``bytes``/``str`` are parsed as JSON; text that is not JSON raises
    :class:`NormalizationError` (and changes nothing). Any JSON value, however
    odd, never raises: ``/meta/*`` entries are skipped, anything the
    normalizer does not understand becomes ``gws.unrecognized``. ``state`` is
    updated in place; the returned events are in the order of the changes.
    ``include_raw`` adds the GWS message to each event's ``data["raw"]``.
    """
    if isinstance(message, _WIRE_TYPES):
        parsed = parse_wire(message)
    else:
        parsed = jsonable(message)
    ctx = Context(agent=agent, state=state, source=source, include_raw=include_raw, time=datetime.now(UTC))
    if isinstance(parsed, list):
        for item in parsed:
            normalize_message(ctx, item)
    else:
        normalize_message(ctx, parsed)
    retire_finished(ctx)
    return ctx.events


def normalize_snapshot(
    snapshot: Snapshot,
    *,
    agent: str,
    state: NormalizerState,
    source: str = "gws-bridge",
    include_raw: bool = False,
) -> list[Event]:
    """State recovery after a CometD (re)connect: events for every difference from ``state``.

    ``snapshot`` holds the bodies of ``GET /api/v2/me?subresources=*``,
    ``GET /api/v2/me/calls?fields=*`` and ``GET /api/v2/me/interactions?fields=*``
    (each may be ``None``: that part is then not compared). A call or
    interaction known as active but missing from a body that was read is
    reported as ended (``call.released``; ``interaction.revoked`` if it was
    only offered, else ``interaction.completed``). Events carry
    ``data["recovered"] = true`` where they are derived from a snapshot, and
    the same ids as the live path would have given for the same change.
    Never raises.
    """
    ctx = Context(agent=agent, state=state, source=source, include_raw=include_raw, time=datetime.now(UTC))
    recover_snapshot(ctx, snapshot)
    retire_finished(ctx)
    return ctx.events
