"""The simulator's CometD server alone, on a small aiohttp app of its own (see raw_bayeux.py).

Fixtures: ``bayeux_factory(**BayeuxServer options)`` → :class:`RawBayeux` (all stop at the end;
``long_poll_timeout`` defaults to 1 s here) and ``bayeux`` (one with the defaults).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from simulator.bayeux import BayeuxServer
from tests.integration.simulator.raw_bayeux import PATH, RawBayeux, basic_auth
from tests.plugins.ports import free_port


@pytest.fixture
async def bayeux_factory() -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[web.AppRunner, aiohttp.ClientSession]] = []

    async def start(**options: Any) -> RawBayeux:
        options.setdefault("long_poll_timeout", 1.0)
        server = BayeuxServer(basic_auth, **options)
        app = web.Application()
        server.add_routes(app)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        started.append((runner, http))
        return RawBayeux(server, f"http://127.0.0.1:{port}{PATH}", http)

    yield start
    for runner, http in started:
        await http.close()
        await runner.cleanup()


@pytest.fixture
async def bayeux(bayeux_factory: Callable[..., Any]) -> RawBayeux:
    server: RawBayeux = await bayeux_factory()
    return server
