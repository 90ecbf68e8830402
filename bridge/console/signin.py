"""The sign-in rate limit: token buckets per client address and per presented key.

Every ``POST /v1/admin/session`` takes one token from the caller's address bucket and one from
the bucket of the key it presents (by SHA-256: neither the key nor its hash is stored or logged),
``[console] sign_in_rate`` per minute up to ``sign_in_burst``. The buckets live in Redis, so every
console replica shares them (the delivery side's token-bucket script, on Redis's clock); when
Redis does not answer, each process limits on its own rather than letting guesses through.
"""

from __future__ import annotations

import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.console import ConsoleSettings
from bridge.config.keys import ConsoleKeys
from bridge.delivery.ratelimit import TAKE_SCRIPT
from bridge.inbound.ratelimit import RateLimiter

__all__ = ["SignInLimit"]

logger = logging.getLogger(__name__)


class SignInLimit:
    """``await limit.wait(address, key)``: 0 when the attempt may go ahead, else seconds to wait."""

    def __init__(self, redis: Redis, keys: ConsoleKeys, settings: ConsoleSettings) -> None:
        self._keys = keys
        self._rate = settings.sign_in_rate / 60.0
        self._burst = settings.sign_in_burst
        self._take = redis.register_script(TAKE_SCRIPT)
        self._fallback = RateLimiter()

    async def wait(self, address: str, api_key: str) -> float:
        """Take a token from both buckets; the longer wait when either is empty."""
        buckets = [
            self._keys.sign_in_bucket("addr", _digest(address)),
            self._keys.sign_in_bucket("key", _digest(api_key)),
        ]
        waits = [await self._take_one(bucket) for bucket in buckets]
        return max(waits)

    async def _take_one(self, bucket: str) -> float:
        try:
            granted, wait = await self._take(keys=[bucket], args=[repr(self._rate), self._burst, 1])
        except (RedisError, OSError) as exc:
            logger.warning(
                "sign-in limit: Redis unavailable, limiting in this process", extra={"error": str(exc)}
            )
            return self._fallback.acquire(bucket, self._rate, self._burst)
        return 0.0 if int(granted) else max(float(wait), 0.001)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
