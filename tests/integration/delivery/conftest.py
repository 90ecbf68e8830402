"""Fixtures of the delivery CLI tests: a configuration with two destinations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def config(delivery_config: Callable[..., Path]) -> Path:
    return delivery_config(
        destinations=[
            {"name": "crm", "kind": "webhook", "url": "http://127.0.0.1:9/"},
            {"name": "audit", "kind": "console"},
        ],
        routes=[{"destinations": ["crm"]}],
    )
