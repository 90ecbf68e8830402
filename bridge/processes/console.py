"""``gws-bridge console``: the operator console (admin API under ``/v1/admin/`` and its pages).

Its own process, not a part of the receiver: the receiver faces the systems that send commands
(often the internet, through a proxy), the console faces the operators (an internal network or
VPN); each gets its own listen address, keys, limits and scaling, and a console problem cannot
take commands down. docs/console.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bridge.config import load_settings
from bridge.console.app import create_app
from bridge.errors import ConfigError

__all__ = ["add_arguments", "run"]

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE``, and ``--host`` / ``--port`` overriding ``[console]``."""
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (default: environment only)")
    parser.add_argument("--host", help="listen address (default: console.host)")
    parser.add_argument("--port", type=int, help="listen port (default: console.port)")


async def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; ``ConfigError`` before listening (the address cannot be bound too)."""
    settings = load_settings(args.config)
    if not settings.console.keys:
        logger.warning("no [console] keys configured: nobody can sign in")
    host = args.host or settings.console.host
    port = args.port if args.port is not None else settings.console.port
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:  # the port is taken (e.g. by another process), or not this host's
        await runner.cleanup()
        raise ConfigError(
            f"cannot listen on {host}:{port} ([console] host and port, or --host/--port): "
            f"{exc.strerror or exc}"
        ) from exc
    logger.info("console listening", extra={"host": host, "port": port, "keys": len(settings.console.keys)})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0
