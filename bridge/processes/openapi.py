"""``gws-bridge openapi [FILE]``: write the inbound API's OpenAPI 3.1 document (docs/openapi.json).

The document is generated from the action table, the params models and the problem kinds
(:mod:`bridge.inbound.openapi`); ``--check`` only tells whether ``FILE`` is current, so a test
fails when the committed file lags behind the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.inbound.openapi import OPENAPI_FILE, openapi_bytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        default=Path("docs") / OPENAPI_FILE,
        help=f"where to write it (default docs/{OPENAPI_FILE})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when FILE differs from what would be written",
    )


def run(args: argparse.Namespace) -> int:
    """0 when written (or current, with ``--check``); 1 when, with ``--check``, it is stale or missing."""
    path: Path = args.file
    document = openapi_bytes()
    current = path.read_bytes() if path.is_file() else None
    if args.check:
        if current != document:
            state = "differs" if current is not None else "missing"
            print(f"{path}: {state}; run `gws-bridge openapi {path}`", file=sys.stderr)
            return 1
        return 0
    if current != document:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document)
    print(f"{path}: {'written' if current != document else 'current'}")
    return 0
