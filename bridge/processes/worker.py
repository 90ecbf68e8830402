"""``gws-bridge worker``: a Celery worker that delivers events.

One process, a thread pool for tasks, one event loop and one HTTP session for
all deliveries (see :mod:`bridge.delivery.runtime`). SIGTERM is a warm
shutdown: running tasks finish (each is bounded by ``task_deadline``).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from bridge.config import load_settings
from bridge.delivery.app import RunnerSlot, make_celery_app
from bridge.delivery.runtime import DeliveryRuntime
from bridge.delivery.validation import delivery_config_problems
from bridge.errors import ConfigError
from bridge.processes.tracing import start_tracing

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="tasks run at once by this process (default 4)"
    )
    parser.add_argument("--hostname", help="worker name (default gwsb-<host>-<pid>)")
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="metrics bind address (default 127.0.0.1)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the worker until SIGTERM/SIGINT; raises ``ConfigError`` for a bad configuration."""
    settings = load_settings(args.config)
    problems = delivery_config_problems(settings)
    if problems:
        raise ConfigError("\n".join(f"{args.config or 'environment'}: {p}" for p in problems))
    hostname = args.hostname or f"gwsb-{socket.gethostname()}-{os.getpid()}"
    slot = RunnerSlot()
    app = make_celery_app(settings, slot)
    stop_tracing = start_tracing(settings.tracing, "worker")
    runtime = DeliveryRuntime(settings, app, hostname=hostname)
    runtime.start()
    slot.runner = runtime
    try:
        if args.metrics_port:
            from prometheus_client import start_http_server

            from bridge.processes.heartbeat import Heartbeat

            runtime.spawn(Heartbeat().run())  # on the delivery loop: the probe sees it hang
            start_http_server(args.metrics_port, addr=args.metrics_host)
        worker = app.Worker(
            hostname=f"{hostname}@%h",
            pool="threads",
            concurrency=args.concurrency,
            loglevel=args.log_level.upper(),
            queues=[settings.delivery.queue],
            without_mingle=True,
            without_gossip=True,
            without_heartbeat=True,
            quiet=True,
        )
        logger.info("worker starting", extra={"hostname": hostname, "concurrency": args.concurrency})
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        runtime.close()
        stop_tracing()
