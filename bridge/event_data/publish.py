"""What ``docs/schemas/`` holds, and whether a directory of it can be replaced by what the code says.

Pure: callers read and write the files (``gws-bridge schemas``, the tests).
"""

from __future__ import annotations

from typing import Any

import orjson

from bridge.event_data.asyncapi import ASYNCAPI_FILE, asyncapi_document
from bridge.event_data.compat import breaking_changes
from bridge.event_data.schemas import ENVELOPE_FILE, ID_PREFIX, schemas

__all__ = ["published_files", "refused_changes", "render"]

_TYPE_BUMP = "its version in bridge/event_data/catalogue.py"
_ENVELOPE_BUMP = "ENVELOPE_VERSION in bridge/event_data/schemas.py"


def published_files() -> dict[str, dict[str, Any]]:
    """File name → document: a JSON Schema per event type, the envelope, the AsyncAPI document."""
    return {**schemas(), ASYNCAPI_FILE: asyncapi_document()}


def render(document: dict[str, Any]) -> bytes:
    """How each file is written (stable, so the committed files can be compared byte for byte)."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def refused_changes(committed: dict[str, dict[str, Any]], generated: dict[str, dict[str, Any]]) -> list[str]:
    """The breaking changes ``generated`` makes to ``committed`` schemas without a new version.

    A schema whose ``$id`` (hence version) is unchanged must stay compatible
    (``bridge.event_data.compat``); a type whose schema disappeared is reported
    too. ``[]`` means the generated files may replace the committed ones.
    """
    problems = []
    for name, old in sorted(committed.items()):
        old_id = str(old.get("$id", ""))
        if not old_id.startswith(ID_PREFIX):
            continue  # the AsyncAPI document: it follows from the schemas
        new = generated.get(name)
        bump = _ENVELOPE_BUMP if name == ENVELOPE_FILE else _TYPE_BUMP
        if new is None:
            problems.append(f"{name}: its type left the catalogue; delete the file by hand if that is meant")
        elif new.get("$id") == old_id:
            problems += [f"{name}: {change}; bump {bump}" for change in breaking_changes(old, new)]
    return problems
