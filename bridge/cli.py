"""``gws-bridge`` entry point.

Each subcommand is a module of :mod:`bridge.processes` (the demo: :mod:`bridge.demo`) and exposes three names:
``DESCRIPTION`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``
(``run`` may be a coroutine function). Only the chosen subcommand's module is
imported, so ``gws-bridge normalize`` does not pay for Celery.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "ExtraFieldsFormatter", "main"]

# name -> module implementing it
COMMANDS: dict[str, str] = {
    "simulate": "simulator.cli",
    "normalize": "bridge.processes.normalize",
    "subscriber": "bridge.processes.subscriber",
    "worker": "bridge.processes.worker",
    "dlq": "bridge.processes.dlq",
    "destinations": "bridge.processes.destinations",
    "check-config": "bridge.processes.check_config",
    "schemas": "bridge.processes.schemas",
    "receiver": "bridge.processes.receiver",
    "demo": "bridge.demo.command",
    "run": "bridge.processes.run",
}


# Attributes every LogRecord has; anything else was passed with ``extra=`` and is worth printing.
_STANDARD_RECORD_KEYS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class ExtraFieldsFormatter(logging.Formatter):
    """The usual one-line format, followed by the record's ``extra`` fields as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={v!r}" for k, v in vars(record).items() if k not in _STANDARD_RECORD_KEYS]
        return f"{line} {' '.join(extras)}" if extras else line


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ExtraFieldsFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def _available() -> dict[str, str]:
    found = {}
    for name, module in COMMANDS.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = module
    return found


def _top_level_help(commands: dict[str, str]) -> str:
    lines = ["usage: gws-bridge COMMAND [options]", "", "commands:"]
    for name, module in commands.items():
        description = getattr(importlib.import_module(module), "DESCRIPTION", "")
        lines.append(f"  {name:<14} {description}")
    lines += ["", "gws-bridge COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit status (2 for usage errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = _available()
    if not args or args[0] in {"-h", "--help"}:
        print(_top_level_help(commands))
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in commands:
        print(f"gws-bridge: unknown command {name!r}; known: {', '.join(commands)}", file=sys.stderr)
        return 2
    module = importlib.import_module(commands[name])
    parser = argparse.ArgumentParser(prog=f"gws-bridge {name}", description=module.DESCRIPTION)
    parser.add_argument(
        "--log-level", default="INFO", help="logging level (DEBUG, INFO, WARNING; default INFO)"
    )
    module.add_arguments(parser)
    parsed = parser.parse_args(rest)
    _configure_logging(parsed.log_level)
    if inspect.iscoroutinefunction(module.run):
        try:
            return int(asyncio.run(module.run(parsed)) or 0)
        except KeyboardInterrupt:
            return 130
    return int(module.run(parsed) or 0)


if __name__ == "__main__":
    sys.exit(main())
