"""``create_app(config)``: the aiohttp application of one simulator — GWS REST under ``/api/v2``,
CometD at ``/api/v2/notifications`` and the ``/sim`` control API.

The package's entry point for embedders: ``Simulator`` and ``SimulatorConfig`` are importable
from here as well as from :mod:`simulator.node` and :mod:`simulator.config`.
"""

from __future__ import annotations

from aiohttp import web

from simulator.auth import auth_middleware
from simulator.config import SimulatorConfig
from simulator.control import add_control_routes
from simulator.node import SIMULATOR_KEY, Simulator
from simulator.rest import add_rest_routes, request_log_middleware
from simulator.stats_http import add_stats_routes

__all__ = ["SIMULATOR_KEY", "Simulator", "SimulatorConfig", "create_app"]


def create_app(config: SimulatorConfig, simulator: Simulator | None = None) -> web.Application:
    """The aiohttp application serving GWS REST under ``/api/v2``, CometD and the ``/sim`` control API."""
    sim = simulator if simulator is not None else Simulator(config)
    app = web.Application(
        middlewares=[auth_middleware(sim.sessions), request_log_middleware(sim)],
        client_max_size=4 * 1024 * 1024,
    )
    app[SIMULATOR_KEY] = sim
    sim.bayeux.add_routes(app)
    add_rest_routes(app)
    add_control_routes(app)
    add_stats_routes(app)

    async def _close(_app: web.Application) -> None:
        await sim.close()

    app.on_shutdown.append(_close)
    return app
