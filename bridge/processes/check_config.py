"""``gws-bridge check-config``: validate a configuration file and explain every problem."""

from __future__ import annotations

import argparse
import sys

from bridge.config import load_settings
from bridge.delivery.validation import delivery_config_problems
from bridge.errors import ConfigError

DESCRIPTION = "validate a configuration file; every error with its location"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (plus GWSB_ variables)")
    parser.add_argument(
        "--no-secrets", action="store_true", help="do not try to resolve secret references (env:, file:)"
    )


def run(args: argparse.Namespace) -> int:
    """Print each problem as ``file: location: message`` and exit 1, or a summary and exit 0."""
    origin = args.config or "environment"
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    problems = delivery_config_problems(settings, resolve_secrets=not args.no_secrets)
    if problems:
        for problem in problems:
            print(f"{origin}: {problem}", file=sys.stderr)
        return 1
    names = ", ".join(f"{d.name} ({d.kind}{', ordered' if d.ordered else ''})" for d in settings.destinations)
    print(f"{origin}: OK")
    print(f"  gws: {settings.gws.base_url}, {len(settings.agents)} agent(s)")
    print(f"  destinations: {names or 'none'}")
    print(f"  routes: {len(settings.routes)}")
    print(f"  redis: {settings.redis_url.split('@')[-1]}")
    schedule = settings.delivery.retry_schedule
    print(f"  retries: {len(schedule) + 1} attempts, waits {schedule}")
    return 0
