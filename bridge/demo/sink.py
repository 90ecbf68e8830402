"""The demo's "CRM": a webhook receiver that verifies Standard Webhooks signatures and keeps count.

It verifies every request with the reference ``standardwebhooks`` library (a bad signature
gets 401 and is counted), acknowledges each ``webhook-id`` once and counts repeats as
duplicates (answering 200 again, as a real receiver that dedupes would), and calls
``on_event`` for each first delivery so the demo can print it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["CrmSink", "ReceivedEvent"]


@dataclass(frozen=True)
class ReceivedEvent:
    """One event as the CRM got it."""

    webhook_id: str
    event: dict[str, Any]
    received_at: float  # time.time()

    @property
    def type(self) -> str:
        return str(self.event.get("type", ""))

    @property
    def data(self) -> dict[str, Any]:
        data = self.event.get("data")
        return data if isinstance(data, dict) else {}

    def latency(self) -> float | None:
        """Seconds from the bridge normalizing the GWS message (event ``time``) to this receipt."""
        from datetime import datetime

        try:
            made = datetime.fromisoformat(str(self.event["time"]).replace("Z", "+00:00")).timestamp()
        except (KeyError, ValueError):
            return None
        return self.received_at - made


@dataclass
class CrmSink:
    """``await sink.start(host, port)`` … ``await sink.stop()``; ``secret`` is the ``whsec_`` key."""

    secret: str
    on_event: Callable[[ReceivedEvent], None] | None = None
    events: list[ReceivedEvent] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition | None = None

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.seen.values())

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen; returns the URL to configure as the webhook destination."""
        self._verifier = Webhook(self.secret)
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/hooks/genesys", self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        return f"http://{host}:{self.port}/hooks/genesys"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        received_at = time.time()
        try:
            self._verifier.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        webhook_id = request.headers.get("webhook-id", "")
        self.seen[webhook_id] += 1
        if self.seen[webhook_id] == 1:
            item = ReceivedEvent(webhook_id, orjson.loads(body), received_at)
            self.events.append(item)
            if self.on_event is not None:
                self.on_event(item)
            assert self._arrived is not None
            async with self._arrived:
                self._arrived.notify_all()
        return web.Response(status=200, text="ok")

    async def wait_for(
        self, predicate: Callable[[ReceivedEvent], bool], within: float, *, after: int = 0
    ) -> ReceivedEvent | None:
        """The first event (already received or arriving within ``within`` s) matching ``predicate``,
        among those received after the first ``after``."""
        assert self._arrived is not None
        deadline = time.monotonic() + within
        checked = after
        async with self._arrived:
            while True:
                for item in self.events[checked:]:
                    if predicate(item):
                        return item
                checked = len(self.events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    return None
