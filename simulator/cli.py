"""``gws-bridge simulate``: run the GWS simulator (REST + CometD + ``/sim`` control API)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from aiohttp import web

from simulator.app import SimulatorConfig, create_app

__all__ = ["add_arguments", "config_from_args", "run"]


logger = logging.getLogger("simulator")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to bind (default 8090)")
    parser.add_argument("--agents", type=int, default=5, help="generated agents agent0001… (default 5)")
    parser.add_argument("--users-file", type=Path, help="TOML file with [[users]] userName/password/dn")
    parser.add_argument("--no-csrf", action="store_true", help="disable CSRF tokens (default: on)")
    parser.add_argument(
        "--session-idle-timeout", type=float, default=1800.0, help="HTTP session idle expiry, seconds"
    )
    parser.add_argument(
        "--released-retention", type=float, default=60.0, help="seconds Released calls stay listed"
    )
    parser.add_argument("--base-url", help="URL used in returned URIs (default http://HOST:PORT)")


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The SimulatorConfig the parsed command line describes."""
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        agents=args.agents,
        users_file=args.users_file,
        csrf=not args.no_csrf,
        session_idle_timeout=args.session_idle_timeout,
        released_retention=args.released_retention,
        base_url=args.base_url,
    )


async def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit status (2 for bad options, a bad users file or a
    port that cannot be bound)."""
    config = config_from_args(args)
    if config.users_file is None and config.agents < 1:
        logger.error("simulator not started: --agents must be at least 1")
        return 2
    try:
        app = create_app(config)
    except (OSError, ValueError) as exc:
        logger.error("simulator not started: %s", exc)
        return 2
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as exc:
        logger.error("simulator not started: cannot listen on %s:%s: %s", config.host, config.port, exc)
        await runner.cleanup()
        return 2
    logger.info("simulator listening", extra={"url": config.url(), "agents": config.agents})
    print(f"GWS simulator on {config.url()} (CometD {config.url()}/api/v2/notifications)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0
