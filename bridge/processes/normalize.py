"""``gws-bridge normalize [FILE...]``: turn captured GWS messages into events, one JSON per line.

Each FILE holds one wire delivery (a Bayeux message object or a Bayeux
array); without FILE, stdin is read: one JSON document, or one per line.
Files are read in the order given and share one in-memory state, so a
capture of a whole call gives its whole story. Exit status 1 when some input
was not JSON (the rest is still normalized), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

from bridge.errors import NormalizationError
from bridge.normalize import MemoryState, normalize

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gws-bridge normalize``."""
    parser.add_argument("files", nargs="*", metavar="FILE", help="wire messages (default: stdin)")
    parser.add_argument("--agent", default="agent", help="the agent the messages belong to (default: agent)")
    parser.add_argument(
        "--source", default="gws-bridge", help="CloudEvents source prefix (default: gws-bridge)"
    )
    parser.add_argument(
        "--include-raw", action="store_true", help="carry the GWS message in each event's data.raw"
    )


def _stdin_documents(blob: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        orjson.loads(blob)
    except orjson.JSONDecodeError:
        for number, line in enumerate(blob.splitlines(), start=1):
            if line.strip():
                yield f"<stdin>:{number}", line
        return
    yield "<stdin>", blob


def _inputs(files: list[str]) -> Iterator[tuple[str, bytes]]:
    if not files:
        yield from _stdin_documents(sys.stdin.buffer.read())
        return
    for name in files:
        yield name, Path(name).read_bytes()


def run(args: argparse.Namespace) -> int:
    """Normalize every input in order; print each event as one JSON line on stdout."""
    state = MemoryState()
    status = 0
    out = sys.stdout.buffer
    try:
        for name, blob in _inputs(args.files):
            try:
                events = normalize(
                    blob, agent=args.agent, state=state, source=args.source, include_raw=args.include_raw
                )
            except NormalizationError as exc:
                print(f"gws-bridge normalize: {name}: {exc}", file=sys.stderr)
                status = 1
                continue
            for event in events:
                out.write(event.to_json() + b"\n")
    except OSError as exc:
        print(f"gws-bridge normalize: {exc}", file=sys.stderr)
        return 1
    out.flush()
    return status
