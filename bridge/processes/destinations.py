"""``gws-bridge destinations list|enable``: endpoint health, and restoring a disabled endpoint."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis

from bridge.config import load_settings
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.ordering import FifoStore
from bridge.delivery.retries import FifoKick, RetrySchedule


def _config_option(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the action (`… list --config FILE`); SUPPRESS keeps an earlier one.
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="TOML configuration file")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="every destination: kind, state, parked events, recent failures")
    _config_option(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    enable = sub.add_parser("enable", help="enable a destination and resend the events it kept")
    _config_option(enable)
    enable.add_argument("name", help="destination name")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


async def run(args: argparse.Namespace) -> int:
    """List or enable; 1 on an unknown destination, ``ConfigError`` on a configuration error."""
    settings = load_settings(args.config)
    keys = settings.keys
    redis = Redis.from_url(settings.redis_url)
    try:
        health = HealthStore(redis, keys)
        fifo = FifoStore(redis, keys)
        names = {d.name: d for d in settings.destinations}
        if args.action == "list":
            disabled = await health.disabled()
            letters = await DeadLetterStore(redis, keys).select()
            for dest in settings.destinations:
                info = disabled.get(dest.name)
                row = {
                    "name": dest.name,
                    "kind": dest.kind,
                    "ordered": dest.ordered,
                    "state": "disabled" if info else "enabled",
                    "disabled_reason": info.reason if info else None,
                    "disabled_at": _when(info.at) if info else None,
                    "parked": await health.parked_count(dest.name),
                    "recent_failures": await health.failure_count(dest.name),
                    "dead_letters": sum(1 for x in letters if x.delivery.destination == dest.name),
                }
                if args.json:
                    print(orjson.dumps(row).decode())
                else:
                    extra = f" since {row['disabled_at']} ({row['disabled_reason']})" if info else ""
                    print(
                        f"{dest.name:<20} {dest.kind:<8} {row['state']}{extra}; parked={row['parked']} "
                        f"recent_failures={row['recent_failures']} dead_letters={row['dead_letters']}"
                    )
            for name in sorted(set(disabled) - set(names)):
                print(f"{name:<20} (not in config) disabled", file=sys.stderr)
            return 0
        if args.name not in names:
            print(f"gws-bridge destinations: unknown destination {args.name!r}", file=sys.stderr)
            return 1
        moved = await health.enable(args.name)
        kicks = [FifoKick(args.name, s).to_wire() for s in await fifo.subjects(args.name)]
        if kicks:
            now = datetime.now(UTC).timestamp()
            await RetrySchedule(redis, keys).add((wire, now) for wire in kicks)
        print(f"{args.name}: enabled; {moved} kept event(s) and {len(kicks)} ordered subject(s) rescheduled")
        return 0
    finally:
        await redis.aclose()
