"""``gws-bridge receiver``: the inbound command receiver (HTTP), with health and metrics."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal

import uvloop
from aiohttp import web

from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.inbound.app import create_app
from bridge.inbound.server import ReceiverRunner
from bridge.processes.tracing import start_tracing

__all__ = ["add_arguments", "run"]


logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE``, and ``--host`` / ``--port`` overriding ``[inbound]``."""
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (default: environment only)")
    parser.add_argument("--host", help="listen address (default: inbound.host)")
    parser.add_argument("--port", type=int, help="listen port (default: inbound.port)")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop (default uvloop: less CPU per command; asyncio for debugging)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve on the chosen event loop until SIGINT/SIGTERM; 2 on a configuration error."""
    factory = uvloop.new_event_loop if args.loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(serve(args))


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections once everything long-lived exists (called after startup).

    Measured with bench/commands.py: with the default thresholds the receiver ran ~400 young
    and 3 full collections per 10,000 requests (~5% of its CPU, full ones 30-40 ms each); in
    flight, 32 commands keep enough objects alive to cross 700 again and again, although almost
    all of them are freed by reference counting. Freezing the startup objects makes a full
    collection a few ms; a young generation of 10,000 leaves a couple of collections per run.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; ``ConfigError`` before listening (the address cannot be bound too)."""
    settings = load_settings(args.config)
    host = args.host or settings.inbound.host
    port = args.port if args.port is not None else settings.inbound.port
    app = create_app(settings)
    stop_tracing = start_tracing(settings.tracing, "receiver")
    runner = ReceiverRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:  # the port is taken, or the address is not this host's
        await runner.cleanup()
        stop_tracing()
        raise ConfigError(
            f"cannot listen on {host}:{port} ([inbound] host and port, or --host/--port): "
            f"{exc.strerror or exc}"
        ) from exc
    _tune_gc()
    logger.info(
        "receiver listening", extra={"host": host, "port": port, "clients": len(settings.inbound.clients)}
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        stop_tracing()
    return 0
