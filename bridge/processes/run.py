"""``gws-bridge run``: a single-node production set-up — subscriber, worker(s), receiver — as children.

The parent only supervises (:mod:`bridge.processes.supervisor`):

- SIGTERM or SIGINT: every child gets SIGTERM at once (workers finish their running tasks,
  subscribers release their leases), then SIGKILL after ``--grace`` seconds; exit 0.
- A child that exits on its own is a failure: the parent logs which child and how it ended,
  stops the others the same way and exits 1, so that systemd, Docker or Kubernetes restarts
  the node as a whole (it does not restart children itself: a crash loop should be visible).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket

from bridge.config import load_settings
from bridge.delivery.validation import delivery_config_problems
from bridge.errors import ConfigError
from bridge.processes.supervisor import ChildProcess, ChildSpec, Supervisor, bridge_command, describe_exit

__all__ = ["add_arguments", "node_children", "run"]


logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` (required) and how many of each role."""
    parser.add_argument("--config", metavar="FILE", required=True, help="TOML configuration file")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="tasks each worker runs at once (default 4)"
    )
    parser.add_argument("--subscribers", type=int, default=1, help="subscriber processes (default 1)")
    parser.add_argument("--no-receiver", action="store_true", help="do not run the command receiver")
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT",
        help="first worker serves Prometheus metrics on PORT, the next on PORT+1, …",
    )  # fmt: skip
    parser.add_argument(
        "--grace", type=float, default=30.0, metavar="SECONDS",
        help="seconds children get to stop after SIGTERM before SIGKILL (default 30)",
    )  # fmt: skip


def node_children(
    config: str,
    *,
    workers: int = 1,
    concurrency: int = 4,
    subscribers: int = 1,
    receiver: bool = True,
    metrics_port: int | None = None,
    log_level: str = "INFO",
) -> list[ChildSpec]:
    """The children of one node for ``config`` (subscribers first, then workers, then the receiver)."""
    host = socket.gethostname()
    specs = [
        ChildSpec(
            f"subscriber-{n}", bridge_command("subscriber", "--config", config, "--log-level", log_level)
        )
        for n in range(1, subscribers + 1)
    ]
    for n in range(1, workers + 1):
        args = ["--config", config, "--hostname", f"gwsb-{host}-{os.getpid()}-w{n}"]
        args += ["--concurrency", str(concurrency), "--log-level", log_level]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port + n - 1)]
        specs.append(ChildSpec(f"worker-{n}", bridge_command("worker", *args)))
    if receiver:
        specs.append(
            ChildSpec("receiver", bridge_command("receiver", "--config", config, "--log-level", log_level))
        )
    return specs


def _check_config(args: argparse.Namespace) -> None:
    """Fail before starting anything: the same checks each child makes at start-up."""
    if args.workers < 1 or args.subscribers < 0 or args.concurrency < 1:
        raise ConfigError("--workers and --concurrency must be >= 1, --subscribers >= 0")
    settings = load_settings(args.config)
    problems = delivery_config_problems(settings)
    if problems:
        raise ConfigError("\n".join(f"{args.config}: {problem}" for problem in problems))
    if args.subscribers and not settings.agents:
        raise ConfigError(f"{args.config}: no [[agents]] configured for the subscriber")


async def run(args: argparse.Namespace) -> int:
    """Supervise the node until SIGTERM/SIGINT (0) or until a child dies (1); ``ConfigError`` first."""
    _check_config(args)
    specs = node_children(
        args.config,
        workers=args.workers,
        concurrency=args.concurrency,
        subscribers=args.subscribers,
        receiver=not args.no_receiver,
        metrics_port=args.metrics_port,
        log_level=args.log_level.upper(),
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    supervisor = Supervisor()
    failed: ChildProcess | None = None
    try:
        for spec in specs:
            supervisor.start(spec)
        logger.info("node running: %s", ", ".join(spec.name for spec in specs))
        failed = await supervisor.wait_for_failure(stop)
        if failed is not None:
            logger.error(
                "%s stopped unexpectedly (%s); stopping the node",
                failed.name,
                describe_exit(failed.returncode),
                extra={"child": failed.name, "returncode": failed.returncode},
            )
        else:
            logger.info("stopping the node")
    finally:
        codes = await supervisor.stop_all(args.grace)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    logger.info(
        "node stopped: %s", ", ".join(f"{name} {describe_exit(code)}" for name, code in codes.items())
    )
    return 1 if failed is not None else 0
