"""``gws-bridge schemas DIR``: write the event schemas and the AsyncAPI document (``docs/schemas/``).

Before replacing anything it compares the schemas already in ``DIR`` with
the new ones: a breaking change to a type whose version was not bumped is
refused (exit 1, nothing written), so a committed schema cannot change under
its consumers by accident. ``--check`` only tells whether ``DIR`` is current.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from bridge.event_data.publish import published_files, refused_changes, render
from bridge.event_data.schemas import ID_PREFIX


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", type=Path, help="where to write them (the repository keeps docs/schemas)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when DIR differs from what would be written",
    )


def _ours(directory: Path) -> dict[str, dict[str, Any]]:
    """The files in ``directory`` that an earlier run wrote (JSON whose ``$id`` or title is ours)."""
    found = {}
    for path in sorted(directory.glob("*.json")):
        try:
            document = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if isinstance(document, dict) and (
            str(document.get("$id", "")).startswith(ID_PREFIX) or "asyncapi" in document
        ):
            found[path.name] = document
    return found


def run(args: argparse.Namespace) -> int:
    """0 when written (or current, with ``--check``); 1 when refused or, with ``--check``, stale."""
    directory: Path = args.directory
    generated = published_files()
    existing = _ours(directory) if directory.is_dir() else {}
    refused = refused_changes(existing, generated)
    if refused:
        for problem in refused:
            print(f"{directory / problem}", file=sys.stderr)
        print("gws-bridge schemas: nothing written (breaking changes need a version bump)", file=sys.stderr)
        return 1
    changed = [name for name, doc in generated.items() if existing.get(name) != doc]
    if args.check:
        for name in changed:
            print(
                f"{directory / name}: {'differs' if (directory / name).exists() else 'missing'}",
                file=sys.stderr,
            )
        return 1 if changed else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (directory / name).write_bytes(render(generated[name]))
    print(f"{directory}: {len(generated)} files, {len(changed)} written")
    return 0
