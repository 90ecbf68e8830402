"""``gws-bridge dlq list|show|replay|purge``: the dead letters, by id, destination or time range.

Replay and purge stream the selection ``--batch-size`` letters at a time, draw a progress line
on stderr when it is a terminal, and end with one summary line on stdout; ``--dry-run`` prints
the letters they would act on and changes nothing.

Times are ISO 8601 (``2026-11-23T14:00:00Z``), Unix seconds, or an age such
as ``90s``, ``15m``, ``2h``, ``3d`` (meaning "that long ago"). A client of
:class:`~bridge.delivery.admin.DeliveryAdmin`, like the console's admin API.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import orjson

from bridge.config import load_settings
from bridge.delivery.admin import DEFAULT_BATCH_SIZE, AdminError, DeliveryAdmin, LetterFilter
from bridge.delivery.admin import parse_time as admin_parse_time
from bridge.delivery.deadletters import DeadLetter
from bridge.errors import ConfigError
from bridge.redis_client import async_redis


def parse_time(value: str) -> float:
    """Unix seconds from ISO 8601, Unix seconds or an age (``15m``); raises ``ArgumentTypeError``."""
    try:
        return admin_parse_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {value!r}") from exc


def _config_option(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the action (`… list --config FILE`); SUPPRESS keeps an earlier one.
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="TOML configuration file")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    sub = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("list", "list dead letters (oldest first)"),
        ("replay", "deliver dead letters again, with a fresh attempt log"),
        ("purge", "delete dead letters for good"),
    ):
        p = sub.add_parser(action, help=text)
        _config_option(p)
        p.add_argument("ids", nargs="*", help="dead-letter ids (<destination>:<event id>)")
        p.add_argument("--destination", help="only this destination's letters")
        p.add_argument("--since", type=parse_time, help="died at or after this time")
        p.add_argument("--until", type=parse_time, help="died at or before this time")
        p.add_argument("--limit", type=int, help="at most this many")
        if action == "list":
            p.add_argument("--json", action="store_true", help="one JSON object per line")
        else:
            p.add_argument(
                "--all", action="store_true", help="required to act on every letter with no filter"
            )
            p.add_argument(
                "--dry-run", action="store_true", help=f"print the letters it would {action}; change nothing"
            )
            p.add_argument(
                "--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, metavar="N",
                help=f"letters read and acted on per round trip (default {DEFAULT_BATCH_SIZE})",
            )  # fmt: skip
    show = sub.add_parser("show", help="one letter with its event and attempt log, as JSON")
    _config_option(show)
    show.add_argument("id")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {value!r}")
    return number


class _Progress:
    """After each batch: the letters on stdout (a dry run), a ``\r`` progress line on a terminal."""

    def __init__(self, action: str, *, dry_run: bool) -> None:
        self._label = f"{action} (dry run)" if dry_run else action
        self._dry_run = dry_run
        self.drawn = sys.stderr.isatty()

    def __call__(self, batch: list[DeadLetter], done: int, expected: int) -> None:
        if self._dry_run:
            for letter in batch:
                print(_summary(letter))
        if self.drawn:
            print(f"\r{self._label}: {done}/{expected} dead letter(s)", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.drawn:
            print(file=sys.stderr)


def _summary(letter: DeadLetter) -> str:
    died = datetime.fromtimestamp(letter.dead_at, UTC).isoformat(timespec="seconds")
    return f"{letter.id}\t{died}\tattempts={len(letter.delivery.attempts)}\t{letter.reason}"


async def run(args: argparse.Namespace) -> int:
    """0 on success, 1 on an unknown id; ``ConfigError`` for a bad config or an unfiltered replay/purge."""
    settings = load_settings(args.config)
    redis = async_redis(settings)
    admin = DeliveryAdmin(settings, redis)
    try:
        if args.action == "show":
            letter = await admin.dead_letter(args.id)
            if letter is None:
                print(f"gws-bridge dlq: no dead letter {args.id!r}", file=sys.stderr)
                return 1
            print(orjson.dumps(letter.to_dict(), option=orjson.OPT_INDENT_2).decode())
            return 0
        selection = LetterFilter(
            ids=tuple(args.ids), destination=args.destination, since=args.since, until=args.until,
            limit=args.limit,
        )  # fmt: skip
        if args.action == "list":
            for letter in await admin.dead_letters(selection):
                print(orjson.dumps(letter.to_dict()).decode() if args.json else _summary(letter))
            return 0
        progress = _Progress(args.action, dry_run=args.dry_run)
        bulk = admin.replay if args.action == "replay" else admin.purge
        try:
            result = await bulk(
                selection, everything=args.all, dry_run=args.dry_run, batch_size=args.batch_size,
                on_batch=progress,
            )  # fmt: skip
        except AdminError as exc:
            raise ConfigError(f"{args.action}: give ids or filters, or --all") from exc
        finally:
            progress.close()
        for letter_id in result.missing:
            print(f"gws-bridge dlq: no dead letter {letter_id!r}", file=sys.stderr)
        done = "replayed" if args.action == "replay" else "purged"
        if args.dry_run:
            print(f"would {args.action} {result.count} dead letter(s) (dry run: nothing changed)")
        else:
            print(f"{done} {result.count} dead letter(s)")
        return 1 if result.missing else 0
    finally:
        await redis.aclose()
