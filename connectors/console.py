"""The console connector: prints each event as one JSON line, for local debugging."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from bridge.config.delivery import DestinationConfig
from bridge.events import Event
from connectors import register_connector

__all__ = ["ConsoleConnector"]


@register_connector("console")
class ConsoleConnector:
    """Writes ``{"destination": name, "event": {...}}`` lines to stdout (or ``options.stream = "stderr"``)."""

    kind = "console"

    def __init__(self, config: DestinationConfig, *, stream: TextIO | None = None, **_: Any) -> None:
        self.name = config.name
        if stream is None:
            stream = sys.stderr if config.options.get("stream") == "stderr" else sys.stdout
        self._stream = stream

    async def send(self, event: Event) -> None:
        """Print ``event``; never fails for a reason worth retrying."""
        line = event.to_json().decode()
        self._stream.write(f'{{"destination":"{self.name}","event":{line}}}\n')
        self._stream.flush()

    async def aclose(self) -> None:
        self._stream.flush()
