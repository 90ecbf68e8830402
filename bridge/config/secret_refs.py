"""Secret references: the one way configuration points at a secret without holding it.

``env:NAME`` reads an environment variable, ``file:PATH`` a file (as mounted for Docker and
Kubernetes secrets). A caller may also accept literal values that carry a recognisable prefix
(a webhook's ``whsec_…``, meant for tests and local runs). Errors name the reference, never the
secret. Destinations, push credentials and agent passwords are all resolved here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from bridge.errors import ConfigError

__all__ = ["read_secret", "resolve_secret", "secrets_unresolved", "unresolved"]

Trim = Literal["strip", "first_line", "none"]

_UNRESOLVED: ContextVar[bool] = ContextVar("secrets_unresolved", default=False)


@contextlib.contextmanager
def secrets_unresolved(active: bool = True) -> Iterator[None]:
    """While active, settings are loaded without reading the secrets that the loader itself
    resolves (agent passwords): ``check-config --no-secrets`` on a machine without them."""
    token = _UNRESOLVED.set(active)
    try:
        yield
    finally:
        _UNRESOLVED.reset(token)


def unresolved() -> bool:
    """True inside :func:`secrets_unresolved`."""
    return _UNRESOLVED.get()


def read_secret(
    reference: str,
    *,
    what: str = "secret",
    literal_prefixes: tuple[str, ...] = (),
    trim: Trim = "strip",
    environ: Mapping[str, str] | None = None,
) -> str:
    """The value ``reference`` points to; raises ``ConfigError`` when it cannot be read or is empty.

    ``trim`` is what is kept of the content: ``strip`` (surrounding whitespace removed, the usual
    for a token in a file), ``first_line`` (a password file) or ``none`` (a key or JSON document
    kept byte for byte). ``environ`` defaults to the process environment: an ``env:`` reference
    is an explicit request to read it, the one place outside the settings loader that does.
    """
    if reference.startswith("env:"):
        name = reference[4:]
        found = (os.environ if environ is None else environ).get(name)
        if found is None:
            raise ConfigError(f"{what} {reference}: environment variable {name} is not set")
        value = found
    elif reference.startswith("file:"):
        try:
            value = Path(reference[5:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{what} {reference}: cannot read file ({exc.strerror})") from exc
    elif literal_prefixes and reference.startswith(literal_prefixes):
        return reference
    else:
        accepted = ", ".join(("env:NAME", "file:PATH", *(f"{p}…" for p in literal_prefixes)))
        raise ConfigError(f"{what} must be a reference: {accepted} (inline values are refused)")
    if trim == "first_line":
        value = value.splitlines()[0].strip() if value.strip() else ""
    elif trim == "strip":
        value = value.strip()
    if not value.strip():  # the message names a location, never a secret
        raise ConfigError(f"{what} {reference} is empty")
    return value


def resolve_secret(reference: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A destination's secret: ``env:``, ``file:`` (whitespace stripped) or a literal ``whsec_…``."""
    return read_secret(reference, literal_prefixes=("whsec_",), environ=environ)
