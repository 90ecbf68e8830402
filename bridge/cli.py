"""``gws-bridge`` entry point.

Each subcommand is a module of :mod:`bridge.processes` (the demo: :mod:`bridge.demo.command`,
the simulator: :mod:`simulator.cli`) with ``add_arguments(parser)`` and ``run(args) -> int``
(``run`` may be a coroutine function). Only the chosen subcommand's module is imported, so
``gws-bridge --help`` and ``gws-bridge normalize`` do not pay for Celery.

Exit status, the same for every subcommand:

====  ==============================================================================
0     done (a server: stopped cleanly by SIGTERM/SIGINT)
1     a runtime failure (GWS or Redis unreachable, a child process died, a check failed)
2     a usage or configuration error (bad option, invalid or incomplete configuration, a
      listening address that cannot be bound)
130   interrupted (Ctrl-C) before a clean stop
====  ==============================================================================

Errors go to stderr as ``gws-bridge COMMAND: message``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
from collections.abc import Sequence
from importlib import metadata

from bridge.errors import ConfigError
from bridge.processes.logs import FORMATS, configure_logging

__all__ = ["COMMANDS", "main"]

# name -> (module implementing it, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("simulator.cli", "run the GWS 8.5 simulator (REST, CometD, /sim control API)"),
    "normalize": (
        "bridge.processes.normalize",
        "normalize captured GWS CometD messages into events (one JSON event per line)",
    ),
    "subscriber": (
        "bridge.processes.subscriber",
        "hold agents' GWS sessions (CometD) and hand their events on for delivery",
    ),
    "worker": ("bridge.processes.worker", "deliver queued events (Celery worker on Redis)"),
    "receiver": ("bridge.processes.receiver", "receive signed commands (JSON, CTI) and perform them on GWS"),
    "console": ("bridge.processes.console", "serve the operator console (admin API and pages) for browsers"),
    "run": (
        "bridge.processes.run",
        "run a single node: subscriber, worker(s) and receiver as supervised child processes",
    ),
    "dlq": ("bridge.processes.dlq", "list, show, replay and purge dead-lettered deliveries"),
    "destinations": (
        "bridge.processes.destinations",
        "show delivery destinations and their health; enable, disable or test one",
    ),
    "check-config": (
        "bridge.processes.check_config",
        "validate a configuration file; every error with its location",
    ),
    "hash-key": (
        "bridge.processes.hash_key",
        "print the sha256: form of an API key read from stdin, for the config",
    ),
    "healthcheck": (
        "bridge.processes.healthcheck",
        "exit 0 when a role answers and its event loop turns (a container's or pod's probe)",
    ),
    "schemas": (
        "bridge.processes.schemas",
        "write the event JSON Schemas and the AsyncAPI document into a directory",
    ),
    "openapi": (
        "bridge.processes.openapi",
        "write the inbound API's OpenAPI 3.1 document (generated from the action table)",
    ),
    "demo": (
        "bridge.demo.command",
        "run the whole bridge locally (simulator, Redis, subscriber, worker, receiver, a CRM) on a script",
    ),
}

USAGE_ERROR = 2


def version() -> str:
    """The installed gws-bridge version."""
    try:
        return metadata.version("gws-bridge")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _top_level_help() -> str:
    lines = ["usage: gws-bridge COMMAND [options]", "       gws-bridge --version", "", "commands:"]
    lines += [f"  {name:<14} {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", "gws-bridge COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit status (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(_top_level_help(), file=sys.stderr)
        return USAGE_ERROR
    if args[0] in {"-h", "--help"}:
        print(_top_level_help())
        return 0
    if args[0] == "--version":
        print(f"gws-bridge {version()}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"gws-bridge: unknown command {name!r}; known: {', '.join(COMMANDS)}", file=sys.stderr)
        return USAGE_ERROR
    module_name, description = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"gws-bridge {name}", description=description)
    parser.add_argument(
        "--log-level", default="INFO", help="logging level (DEBUG, INFO, WARNING; default INFO)"
    )
    parser.add_argument(
        "--log-format", choices=FORMATS, default="auto",
        help="text, json (one object per line, UTC) or auto: text on a terminal, else json (default)",
    )  # fmt: skip
    module.add_arguments(parser)
    parsed = parser.parse_args(rest)
    configure_logging(parsed.log_level, parsed.log_format)
    try:
        if inspect.iscoroutinefunction(module.run):
            return int(asyncio.run(module.run(parsed)) or 0)
        return int(module.run(parsed) or 0)
    except ConfigError as exc:
        print(f"gws-bridge {name}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
