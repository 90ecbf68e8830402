"""Bayeux channel names, wildcard matching and the per-user subscription index.

A channel is an absolute path of non-empty segments (``/v2/me/calls``). A
subscription may end in a wildcard segment: ``*`` matches exactly one segment
(``/v2/me/*`` matches ``/v2/me/calls`` but neither ``/v2/me`` nor
``/v2/me/calls/x``), ``**`` matches one or more (``/**`` matches everything).

The index answers "which clients of user U want channel C" in
O(segments of C + matching clients of U): it is keyed by subscription pattern,
then by user, so publishing never looks at other users' clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

__all__ = [
    "SubscriptionIndex",
    "is_valid_channel",
    "is_valid_subscription",
    "matching_patterns",
]

T = TypeVar("T")


def _segments(name: str) -> list[str] | None:
    if not isinstance(name, str) or not name.startswith("/") or len(name) < 2:
        return None
    parts = name[1:].split("/")
    if any(part == "" for part in parts):
        return None
    return parts


def is_valid_channel(name: object) -> bool:
    """True for a concrete channel name: absolute, no empty segment, no wildcard."""
    if not isinstance(name, str):
        return False
    parts = _segments(name)
    return parts is not None and not any(part in {"*", "**"} for part in parts)


def is_valid_subscription(name: object) -> bool:
    """True for a channel name or a pattern whose only wildcard is its last segment."""
    if not isinstance(name, str):
        return False
    parts = _segments(name)
    if parts is None:
        return False
    return not any(part in {"*", "**"} for part in parts[:-1])


def matching_patterns(channel: str) -> list[str]:
    """Every subscription pattern that matches ``channel``, the channel itself first.

    ``/a/b/c`` → ``/a/b/c``, ``/a/b/*``, ``/a/b/**``, ``/a/**``, ``/**``.
    """
    parts = channel[1:].split("/")
    patterns = [channel]
    parent = "/" + "/".join(parts[:-1]) if len(parts) > 1 else ""
    patterns.append(parent + "/*")
    for depth in range(len(parts) - 1, -1, -1):
        prefix = "/" + "/".join(parts[:depth]) if depth else ""
        patterns.append(prefix + "/**")
    return patterns


class SubscriptionIndex(Generic[T]):
    """pattern → user → set of subscribers (any hashable client object)."""

    def __init__(self) -> None:
        self._by_pattern: dict[str, dict[str, set[T]]] = {}

    def add(self, pattern: str, user: str, subscriber: T) -> None:
        self._by_pattern.setdefault(pattern, {}).setdefault(user, set()).add(subscriber)

    def discard(self, pattern: str, user: str, subscriber: T) -> None:
        users = self._by_pattern.get(pattern)
        if users is None:
            return
        subscribers = users.get(user)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del users[user]
            if not users:
                del self._by_pattern[pattern]

    def discard_all(self, patterns: Iterable[str], user: str, subscriber: T) -> None:
        for pattern in patterns:
            self.discard(pattern, user, subscriber)

    def subscribers(self, channel: str, user: str | None) -> set[T]:
        """Subscribers of ``user`` (every user when None) whose patterns match ``channel``, once each."""
        found: set[T] = set()
        for pattern in matching_patterns(channel):
            users = self._by_pattern.get(pattern)
            if not users:
                continue
            if user is None:
                for subscribers in users.values():
                    found.update(subscribers)
            else:
                own = users.get(user)
                if own:
                    found.update(own)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_pattern)

    def __len__(self) -> int:
        return len(self._by_pattern)
