"""Input limits: the one place that says how large and how deep an inbound document may be.

Every inbound dialect (the JSON and CTI bodies, Slack forms and their ``payload``, the mobile
device registry) checks what it parsed with :func:`check_input` before anything is built from
it, and the command params that carry free-form data (``user_data``) check again, so a limit
holds whichever way a command was made. Without them a ``user_data`` nested a few hundred levels
deep passed validation and failed later, in the JSON encoder of the GWS request (500).

The walk is iterative and stops descending at the first container past :attr:`InputLimits.max_depth`,
so a hostile document cannot exhaust the Python stack here either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.errors import CommandError

__all__ = ["LIMITS", "InputLimits", "check_input", "input_violations"]


@dataclass(frozen=True)
class InputLimits:
    """How much one inbound document may hold (documented in docs/commands.md)."""

    max_depth: int = 32  # levels of objects and arrays, the outermost one included
    max_entries: int = 1000  # object keys and array items, counted together over the whole document
    max_key_length: int = 256  # characters of one object key
    max_string_length: int = 4096  # characters of one string value
    max_errors: int = 10  # violations reported at most (the walk stops there)


LIMITS = InputLimits()

_SHOWN_KEY = 64  # a too-long key is named by its first characters only


def _shown(part: str | int) -> str:
    text = str(part)
    return text if len(text) <= _SHOWN_KEY else text[:_SHOWN_KEY] + "…"


def _violation(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": [_shown(part) for part in loc], "msg": msg, "type": kind}


def input_violations(
    document: Any, *, loc: Sequence[str | int] = (), limits: InputLimits = LIMITS
) -> list[dict[str, Any]]:
    """Every way ``document`` breaks ``limits`` (at most ``limits.max_errors``), as ``{loc, msg, type}``.

    ``loc`` is where ``document`` sits in the request (e.g. ``["params", "user_data"]``); each
    violation's ``loc`` continues from there to the offending key, string or container. Only
    JSON-shaped values are looked into (dicts, lists, strings); anything else counts as a leaf.
    """
    errors: list[dict[str, Any]] = []
    entries = 0
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(document, tuple(loc), 0)]
    while stack and len(errors) < limits.max_errors:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if len(value) > limits.max_string_length:
                errors.append(
                    _violation(
                        path,
                        f"string longer than {limits.max_string_length} characters",
                        "string_too_long",
                    )
                )
            continue
        if not isinstance(value, dict | list):
            continue
        depth += 1
        if depth > limits.max_depth:
            errors.append(
                _violation(path, f"nested deeper than {limits.max_depth} objects and arrays", "too_deep")
            )
            continue
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        entries += len(items)
        if entries > limits.max_entries:
            errors.append(
                _violation(
                    path,
                    f"more than {limits.max_entries} keys and array items in the document",
                    "too_many_entries",
                )
            )
            break  # refused anyway: no need to look through the rest
        for key, child in reversed(items):
            if isinstance(key, str) and len(key) > limits.max_key_length:
                errors.append(
                    _violation(
                        (*path, key), f"key longer than {limits.max_key_length} characters", "key_too_long"
                    )
                )
                continue
            stack.append((child, (*path, key), depth))
    return errors[: limits.max_errors]


def check_input(
    document: Any, *, loc: Sequence[str | int] = (), what: str = "the request", limits: InputLimits = LIMITS
) -> None:
    """Raise :class:`CommandError` (422, an ``errors`` entry per violation) if ``document`` breaks a limit."""
    errors = input_violations(document, loc=loc, limits=limits)
    if errors:
        raise CommandError(f"{what} exceeds the input limits", errors=errors)
