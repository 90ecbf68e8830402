"""Secret references in destination config, resolved once when a connector starts.

``env:NAME`` reads an environment variable, ``file:PATH`` a file (trailing
whitespace stripped, as for Docker/Kubernetes secrets), and a literal
``whsec_…`` is used as is (meant for tests and local runs). Errors name the
reference, never the secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bridge.errors import ConfigError

__all__ = ["resolve_secret"]


def resolve_secret(reference: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The secret ``reference`` points to; raises ``ConfigError`` when it cannot be read or is empty.

    ``environ`` defaults to the process environment: an ``env:`` reference is an
    explicit request to read it, the one place outside settings that does.
    """
    if reference.startswith("env:"):
        name = reference[4:]
        value = (os.environ if environ is None else environ).get(name)
        if value is None:
            raise ConfigError(f"secret {reference}: environment variable {name} is not set")
    elif reference.startswith("file:"):
        path = Path(reference[5:])
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"secret {reference}: cannot read file ({exc.strerror})") from exc
    elif reference.startswith("whsec_"):
        value = reference
    else:
        raise ConfigError("secret reference must start with env:, file: or whsec_")
    if not value:  # only env:/file: can get here; both name a location, not a secret
        raise ConfigError(f"secret {reference} is empty")
    return value
