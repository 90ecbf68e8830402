"""Slack's request signature: the first step of every Slack route, on the raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from bridge.inbound.problems import Problem

__all__ = ["SlackSignatureVerifier"]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthorized")


class SlackSignatureVerifier:
    """Slack's request signature (``v0``): HMAC-SHA256 of ``v0:<timestamp>:<raw body bytes>``.

    Works on the bytes as received, so a body that is not UTF-8 is refused as unsigned (401) or,
    once signed, as malformed (400) — never a decoding error.
    """

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode()
        self._clock = clock

    def signature(self, timestamp: str, body: bytes) -> str:
        """The ``X-Slack-Signature`` Slack sends for ``body`` at ``timestamp``."""
        digest = hmac.new(self._key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return "v0=" + digest.hexdigest()

    def verify(self, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
        """Check the signature of ``body``: ``(timestamp, signature)``, or raises ``Problem`` 401."""
        stamp = headers.get("X-Slack-Request-Timestamp") or ""
        signature = headers.get("X-Slack-Signature") or ""
        if not stamp or not signature:
            raise _unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature")
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            raise _unauthorized("X-Slack-Request-Timestamp is not a Unix time")
        if abs(self._clock() - int(stamp)) > 300:
            raise _unauthorized("X-Slack-Request-Timestamp is more than 5 minutes off (stale or replayed)")
        if not signature.isascii() or not hmac.compare_digest(self.signature(stamp, body), signature):
            raise _unauthorized("Slack signature does not match")
        return stamp, signature
