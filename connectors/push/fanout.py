"""One event to every matching device of its agent: the part APNs and FCM share.

The devices come from the :class:`~bridge.mobile.registry.DeviceRegistry`
(the agent's devices on this platform whose filter passes the event's topic).
Each device is pushed once; the result of each push is a :class:`DeviceOutcome`:

- ``sent``: remembered per event, so a retried delivery skips that device;
- ``gone`` (APNs 410 ``Unregistered``, FCM ``UNREGISTERED``): the token is
  reported through ``emit`` as ``mobile.token_invalidated`` and then removed
  from the registry; the other devices are not affected;
- ``retryable`` / ``permanent``: collected; after every device was tried,
  one retryable failure makes the whole delivery retryable (with the longest
  ``Retry-After`` seen), otherwise one permanent failure makes it permanent.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from redis.exceptions import RedisError

from bridge.errors import PermanentDeliveryError, RetryableDeliveryError
from bridge.events import Event, EventType
from bridge.mobile.registry import Device, DeviceRegistry, Platform, token_fingerprint
from connectors.push.payload import PushContent

__all__ = ["DeviceOutcome", "Emit", "PushFanout", "token_invalidated_event"]

logger = logging.getLogger(__name__)

Emit = Callable[[Event], Awaitable[None]]
_ID_NAMESPACE = uuid.UUID("0b7f6c1e-5d8a-4c3b-9e2f-71a4d6c8e903")


@dataclass(frozen=True)
class DeviceOutcome:
    """What happened to one push. ``reason`` is the service's reason code (never a token)."""

    status: Literal["sent", "gone", "retryable", "permanent"]
    reason: str = ""
    retry_after: float | None = None


SendOne = Callable[[Device, PushContent], Awaitable[DeviceOutcome]]


def token_invalidated_event(device: Device, *, destination: str, reason: str, cause: Event) -> Event:
    """The ``mobile.token_invalidated`` event for a token the push service rejected for good.

    Its id depends on the token and its registration, so reporting the same
    rejection twice (a retried delivery) gives the same id.
    """
    name = f"{device.platform.value}/{device.token}/{device.registered_at!r}"
    now = datetime.now(UTC)
    return Event(
        id=str(uuid.uuid5(_ID_NAMESPACE, name)),
        source=f"gws-bridge/push/{destination}",
        type=EventType.MOBILE_TOKEN_INVALIDATED.value,
        subject=f"mobile/{device.agent}",
        time=now,
        data={
            "agent": device.agent,
            "platform": device.platform.value,
            "token": device.token,
            "token_fingerprint": token_fingerprint(device.token),
            "sandbox": device.sandbox,
            "reason": reason,
            "destination": destination,
            "event_id": cause.id,
            "event_type": cause.type,
        },
        sequence=time.time_ns() // 1000,
        partitionkey=device.agent,
    )


class PushFanout:
    """Pushes one event to the matching devices of one platform (see the module docstring)."""

    def __init__(
        self,
        *,
        destination: str,
        platform: Platform,
        registry: DeviceRegistry,
        emit: Emit | None,
        sent_ttl: float,
        concurrency: int,
    ) -> None:
        self._destination = destination
        self._platform = platform
        self._registry = registry
        self._emit = emit
        self._sent_ttl = sent_ttl
        self._limit = asyncio.Semaphore(concurrency)

    async def deliver(self, event: Event, content: PushContent, send_one: SendOne) -> int:
        """Push ``content`` to every target device; returns how many devices got it now.

        Raises ``RetryableDeliveryError`` / ``PermanentDeliveryError`` after
        every device was tried (see the module docstring).
        """
        try:
            devices = await self._registry.devices_for(event, [self._platform])
            if not devices:
                return 0
            done = await self._registry.already_sent(self._destination, event.id)
        except RedisError as exc:
            raise RetryableDeliveryError(
                f"{self._destination}: device registry: {type(exc).__name__}"
            ) from exc
        targets = [d for d in devices if d.token not in done]
        if not targets:
            return 0

        async def one(device: Device) -> DeviceOutcome:
            async with self._limit:
                return await send_one(device, content)

        outcomes = await asyncio.gather(*(one(d) for d in targets))
        sent = [d.token for d, o in zip(targets, outcomes, strict=True) if o.status == "sent"]
        retryable: list[tuple[Device, DeviceOutcome]] = []
        permanent: list[tuple[Device, DeviceOutcome]] = []
        try:
            await self._registry.mark_sent(self._destination, event.id, sent, ttl=self._sent_ttl)
            for device, outcome in zip(targets, outcomes, strict=True):
                if outcome.status == "gone":
                    await self._forget(device, outcome.reason, event)
        except RedisError as exc:
            # The pushes went out; a retry may repeat some of them (a collapse id makes that harmless).
            raise RetryableDeliveryError(
                f"{self._destination}: device registry: {type(exc).__name__}"
            ) from exc
        for device, outcome in zip(targets, outcomes, strict=True):
            if outcome.status == "retryable":
                retryable.append((device, outcome))
            elif outcome.status == "permanent":
                permanent.append((device, outcome))
        tried = len(targets)
        if retryable:
            waits = [o.retry_after for _, o in retryable if o.retry_after is not None]
            raise RetryableDeliveryError(
                f"{self._destination}: {len(retryable)} of {tried} pushes failed: "
                f"{self._describe(retryable)}",
                retry_after=max(waits) if waits else None,
            )
        if permanent:
            raise PermanentDeliveryError(
                f"{self._destination}: {len(permanent)} of {tried} pushes refused: "
                f"{self._describe(permanent)}"
            )
        return len(sent)

    async def _forget(self, device: Device, reason: str, cause: Event) -> None:
        fingerprint = token_fingerprint(device.token)
        if self._emit is not None:
            # Emit first: if that fails the token stays, the next attempt sees the rejection again.
            try:
                await self._emit(
                    token_invalidated_event(device, destination=self._destination, reason=reason, cause=cause)
                )
            except Exception as exc:
                raise RetryableDeliveryError(
                    f"{self._destination}: could not emit mobile.token_invalidated: {type(exc).__name__}"
                ) from exc
        await self._registry.remove(device.token)
        logger.warning(
            "push token invalidated and removed",
            extra={
                "destination": self._destination,
                "agent": device.agent,
                "token": fingerprint,
                "reason": reason,
                "event_id": cause.id,
            },
        )

    @staticmethod
    def _describe(failures: list[tuple[Device, DeviceOutcome]]) -> str:
        return ", ".join(f"{token_fingerprint(d.token)} {o.reason}" for d, o in failures[:5]) + (
            ", …" if len(failures) > 5 else ""
        )
