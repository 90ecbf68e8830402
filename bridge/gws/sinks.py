"""Event sinks owned by the subscriber: JSON lines on stdout, for debugging and tests.

The production sink (the Celery enqueue) lives in ``bridge/delivery/``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import BinaryIO

from bridge.events import Event

__all__ = ["PrintEventSink"]


class PrintEventSink:
    """Writes each event as one compact JSON line (CloudEvents structured form).

    ``publish`` returns after the lines are written and flushed, which is as
    durable as stdout gets. Writes are synchronous, so lines from concurrent
    sessions in one process never interleave.
    """

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self.published = 0

    async def publish(self, events: Sequence[Event]) -> None:
        """Write ``events`` as JSON lines and flush; raises ``OSError`` if stdout is gone."""
        if not events:
            return
        self._stream.write(b"".join(event.to_json() + b"\n" for event in events))
        self._stream.flush()
        self.published += len(events)
