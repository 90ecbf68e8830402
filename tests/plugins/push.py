"""Push test fixtures: local APNs and FCM emulators on loopback, and their key material.

The emulators live in ``push_apns`` (HTTP/2 over TLS on the ``h2`` library) and
``push_fcm`` (aiohttp); ``push_keys`` makes the keys. See their docstrings for
what each one checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.plugins.push_apns import ApnsEmulator, ApnsRequest
from tests.plugins.push_fcm import FcmEmulator, FcmRequest
from tests.plugins.push_keys import (
    CLIENT_EMAIL,
    KEY_ID,
    PRIVATE_KEY_ID,
    PROJECT_ID,
    TEAM_ID,
    TOPIC,
    PushKeys,
    Scripted,
    write_keys,
)

__all__ = [
    "CLIENT_EMAIL",
    "KEY_ID",
    "PRIVATE_KEY_ID",
    "PROJECT_ID",
    "TEAM_ID",
    "TOPIC",
    "ApnsEmulator",
    "ApnsRequest",
    "FcmEmulator",
    "FcmRequest",
    "PushKeys",
    "Scripted",
    "write_keys",
]

# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def push_keys(tmp_path_factory: pytest.TempPathFactory) -> PushKeys:
    """Key material for the session (APNs .p8, service account JSON, TLS pair)."""
    return write_keys(tmp_path_factory.mktemp("push-keys"))


@pytest.fixture
async def apns_emulator_factory(push_keys: PushKeys) -> AsyncIterator[Callable[..., Awaitable[ApnsEmulator]]]:
    """``await apns_emulator_factory(**kwargs)`` starts another APNs emulator; all stop afterwards."""
    started: list[ApnsEmulator] = []

    async def start(**kwargs: Any) -> ApnsEmulator:
        emulator = ApnsEmulator(push_keys, **kwargs)
        await emulator.start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        await emulator.close()


@pytest.fixture
async def apns_emulator(apns_emulator_factory: Callable[..., Awaitable[ApnsEmulator]]) -> ApnsEmulator:
    """A running APNs emulator."""
    return await apns_emulator_factory()


@pytest.fixture
async def fcm_emulator(push_keys: PushKeys) -> AsyncIterator[FcmEmulator]:
    """A running FCM (+ OAuth token endpoint) emulator."""
    emulator = FcmEmulator(push_keys)
    await emulator.start()
    yield emulator
    await emulator.close()
