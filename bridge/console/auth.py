"""Who is asking: admin API keys, browser sessions, CSRF tokens, roles, and the audit log.

Two ways in, both checked against the hashed keys of ``[console] keys``:

- ``Authorization: Bearer <key>`` on each request (scripts; no cookie, so no CSRF token needed);
- a browser signs in once (``POST /v1/admin/session`` with the key) and gets a random session
  token in a cookie that is ``HttpOnly`` (scripts cannot read it), ``SameSite=Strict`` (other sites
  cannot send it) and ``Secure`` when ``secure_cookie``. Redis keeps only the token's SHA-256, with
  the key's name, role and a CSRF token; every state-changing request with the cookie must echo
  that token in ``X-CSRF-Token``.

Every operator action is logged (logger ``bridge.console.audit``) and kept in a bounded stream.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config.console import ConsoleKey, ConsoleRole, ConsoleSettings
from bridge.config.inbound import hash_api_key
from bridge.config.keys import ConsoleKeys

__all__ = ["COOKIE", "CSRF_HEADER", "AuditLog", "Identity", "SessionStore", "find_key"]

COOKIE = "gwsb_console"
CSRF_HEADER = "X-CSRF-Token"

audit_logger = logging.getLogger("bridge.console.audit")


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller: the key's name and role; ``csrf`` is set for cookie sessions (else None)."""

    name: str
    role: ConsoleRole
    csrf: str | None = None

    @property
    def operator(self) -> bool:
        return self.role is ConsoleRole.OPERATOR


def find_key(settings: ConsoleSettings, api_key: str) -> ConsoleKey | None:
    """The configured key whose hash matches ``api_key`` (constant-time per comparison)."""
    if not api_key or len(api_key) > 512:
        return None
    digest = hash_api_key(api_key)
    found = None
    for key in settings.keys:
        if hmac.compare_digest(key.api_key_hash, digest):
            found = key
    return found


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Browser sessions in Redis, expiring after ``session_ttl``."""

    def __init__(self, redis: Redis, keys: ConsoleKeys, settings: ConsoleSettings) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_ms = int(settings.session_ttl * 1000)

    async def open(self, key: ConsoleKey) -> tuple[str, Identity]:
        """A new session for ``key``: ``(cookie token, identity with its CSRF token)``."""
        token = secrets.token_urlsafe(32)
        identity = Identity(key.name, key.role, secrets.token_urlsafe(24))
        record = orjson.dumps({"name": identity.name, "role": identity.role.value, "csrf": identity.csrf})
        await self._redis.set(self._keys.session(_token_hash(token)), record, px=self._ttl_ms)
        return token, identity

    async def get(self, token: str | None) -> Identity | None:
        if not token or len(token) > 128:
            return None
        raw = await self._redis.get(self._keys.session(_token_hash(token)))
        if raw is None:
            return None
        record = orjson.loads(raw)
        return Identity(record["name"], ConsoleRole(record["role"]), record["csrf"])

    async def close(self, token: str) -> None:
        await self._redis.delete(self._keys.session(_token_hash(token)))


def csrf_ok(identity: Identity, presented: str | None) -> bool:
    """A cookie session's state-changing request carries its CSRF token; a Bearer request needs none."""
    if identity.csrf is None:
        return True
    return presented is not None and hmac.compare_digest(identity.csrf, presented)


class AuditLog:
    """Operator actions: one log line each and a bounded Redis stream (``GET /v1/admin/audit``)."""

    def __init__(self, redis: Redis, keys: ConsoleKeys, settings: ConsoleSettings) -> None:
        self._redis = redis
        self._key = keys.audit
        self._max = settings.audit_entries

    async def record(self, who: Identity | str, action: str, target: str, result: str, **detail: Any) -> None:
        name = who.name if isinstance(who, Identity) else who
        role = who.role.value if isinstance(who, Identity) else None
        entry = {"at": time.time(), "who": name, "role": role, "action": action, "target": target,
                 "result": result, **detail}  # fmt: skip
        audit_logger.info(
            "console action %s %s by %s: %s", action, target, name, result,
            extra={"who": name, "action": action, "target": target, "result": result},
        )  # fmt: skip
        try:
            await self._redis.xadd(self._key, {"j": orjson.dumps(entry)}, maxlen=self._max, approximate=True)
        except Exception as exc:  # the log line above is the record of last resort
            audit_logger.warning("audit entry not stored", extra={"error": type(exc).__name__})

    async def recent(self, count: int = 200) -> list[dict[str, Any]]:
        rows: Any = await self._redis.xrevrange(self._key, count=count)
        return [orjson.loads(fields[b"j"]) for _, fields in rows]
