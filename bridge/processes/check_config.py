"""``gws-bridge check-config``: validate a configuration file and explain every problem."""

from __future__ import annotations

import argparse

from bridge.config import load_settings
from bridge.config.secret_refs import secrets_unresolved
from bridge.delivery.validation import delivery_config_notes, delivery_config_problems
from bridge.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (plus GWSB_ variables)")
    parser.add_argument(
        "--no-secrets", action="store_true", help="do not try to resolve secret references (env:, file:)"
    )


def run(args: argparse.Namespace) -> int:
    """Print a summary (and notes about what works but probably not as meant) and exit 0;
    ``ConfigError`` lists each problem as ``file: location: message``."""
    origin = args.config or "environment"
    found: list[str] = []  # what loading the file said, when only the agents' secrets failed it
    try:
        with secrets_unresolved(args.no_secrets):
            settings = load_settings(args.config)
    except ConfigError as exc:
        if args.no_secrets:
            raise
        try:  # an agent's password_env / password_file: go on, so that every other problem is named too
            with secrets_unresolved():
                settings = load_settings(args.config)
        except ConfigError:
            raise exc from None
        found.append(str(exc))
    problems = delivery_config_problems(settings, resolve_secrets=not args.no_secrets)
    if found or problems:
        raise ConfigError("\n".join([*found, *(f"{origin}: {problem}" for problem in problems)]))
    names = ", ".join(f"{d.name} ({d.kind}{', ordered' if d.ordered else ''})" for d in settings.destinations)
    print(f"{origin}: OK")
    print(f"  gws: {settings.gws.base_url}, {len(settings.agents)} agent(s)")
    print(f"  destinations: {names or 'none'}")
    print(f"  routes: {len(settings.routes)}")
    sentinel = settings.redis_sentinel
    if sentinel is None:
        print(f"  redis: {settings.redis_url.split('@')[-1]}")
    else:
        print(
            f"  redis: sentinel master {sentinel.master_name!r} via {', '.join(sentinel.sentinels)}, "
            f"saves wait for {sentinel.wait_replicas} replica(s) ({sentinel.wait_timeout_ms} ms)"
        )
    schedule = settings.delivery.retry_schedule
    print(f"  retries: {len(schedule) + 1} attempts, waits {schedule}")
    for note in delivery_config_notes(settings):  # valid, but probably not what was meant
        print(f"  note: {origin}: {note}")
    return 0
