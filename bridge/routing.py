"""Routes: which destinations an event goes to. Pure functions, no IO.

A route matches an event when the event's ``type`` matches one of the
route's ``events`` globs and every filter the route sets matches:

- ``agents``    globs on the agent (``event.partitionkey``, else ``data.agent``);
- ``queues``    globs on ``data.queue`` (else ``data.userData.queue``);
- ``channels``  globs on ``data.channel`` (``voice`` for ``call.*`` events without one);
- ``user_data`` ``{key: [globs]}`` on ``data.userData[key]``; all keys must match.

An event that lacks a filtered field does not match that route. Globs are
case-sensitive ``fnmatch`` patterns (``*``, ``?``, ``[abc]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any

from bridge.config.delivery import RouteConfig
from bridge.events import Event

__all__ = ["destinations_for", "route_matches"]


def _any_glob(value: Any, globs: Iterable[str]) -> bool:
    if value is None or isinstance(value, dict | list):
        return False
    text = str(value)
    return any(fnmatchcase(text, glob) for glob in globs)


def _agent(event: Event) -> Any:
    return event.partitionkey or event.data.get("agent")


def _user_data(event: Event) -> dict[str, Any]:
    value = event.data.get("userData")
    return value if isinstance(value, dict) else {}


def _queue(event: Event) -> Any:
    queue = event.data.get("queue")
    return queue if queue is not None else _user_data(event).get("queue")


def _channel(event: Event) -> Any:
    channel = event.data.get("channel")
    if channel is None and event.type.startswith("call."):
        return "voice"
    return channel


def route_matches(event: Event, route: RouteConfig) -> bool:
    """True when ``event`` satisfies ``route``'s type globs and every filter it sets."""
    if not any(fnmatchcase(event.type, glob) for glob in route.events):
        return False
    if route.agents is not None and not _any_glob(_agent(event), route.agents):
        return False
    if route.queues is not None and not _any_glob(_queue(event), route.queues):
        return False
    if route.channels is not None and not _any_glob(_channel(event), route.channels):
        return False
    if route.user_data:
        user_data = _user_data(event)
        for key, globs in route.user_data.items():
            if not _any_glob(user_data.get(key), globs):
                return False
    return True


def destinations_for(event: Event, routes: Sequence[RouteConfig]) -> list[str]:
    """The destination names ``event`` goes to, each once, in first-route order.

    An event no route matches goes nowhere (and is counted as unrouted by the caller).
    """
    found: dict[str, None] = {}
    for route in routes:
        if route_matches(event, route):
            for name in route.destinations:
                found.setdefault(name, None)
    return list(found)
