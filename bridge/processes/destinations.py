"""``gws-bridge destinations list|enable|disable|test``: endpoint health, restoring a disabled
endpoint, disabling one by hand, and sending it a ``destination.test`` event.

A client of :class:`~bridge.delivery.admin.DeliveryAdmin`, like the console's admin API.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from bridge.config import load_settings
from bridge.delivery.admin import AdminError, DeliveryAdmin
from bridge.redis_client import async_redis


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
    disable = sub.add_parser("disable", help="disable a destination by hand (its events are kept)")
    _config_option(disable)
    disable.add_argument("name", help="destination name")
    disable.add_argument("--reason", default="disabled by an operator (cli)", help="shown in list")
    test = sub.add_parser("test", help="send a destination.test event through the worker")
    _config_option(test)
    test.add_argument("name", help="destination name")


async def run(args: argparse.Namespace) -> int:
    """List, enable, disable or test; 1 on an unknown destination; ``ConfigError`` on a bad config."""
    settings = load_settings(args.config)
    redis = async_redis(settings)
    admin = DeliveryAdmin(settings, redis)
    try:
        if args.action == "list":
            for row in await admin.destination_rows():
                if args.json:
                    print(orjson.dumps(row).decode())
                    continue
                since = row["disabled_at"]
                extra = f" since {since} ({row['disabled_reason']})" if since else ""
                print(
                    f"{row['name']:<20} {row['kind']:<8} {row['state']}{extra}; parked={row['parked']} "
                    f"recent_failures={row['recent_failures']} dead_letters={row['dead_letters']}"
                )
            for name in await admin.unconfigured_disabled():
                print(f"{name:<20} (not in config) disabled", file=sys.stderr)
            return 0
        try:
            if args.action == "enable":
                moved, kicks = await admin.enable(args.name)
                print(
                    f"{args.name}: enabled; {moved} kept event(s) and {kicks} ordered subject(s) rescheduled"
                )
            elif args.action == "disable":
                changed = await admin.disable(args.name, args.reason)
                print(f"{args.name}: {'disabled' if changed else 'already disabled'}")
            else:
                event = await admin.send_test(args.name, requested_by="cli")
                print(f"{args.name}: test event {event.id} scheduled")
        except AdminError as exc:
            print(f"gws-bridge destinations: {exc}", file=sys.stderr)
            return 1
        return 0
    finally:
        await redis.aclose()
