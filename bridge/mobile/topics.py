"""GWS notification topics for events, and the ``mobileSession.filter`` syntax that selects them.

GWS (seed 002, "Mobile Push Notifications") lets a mobile device subscribe
with a Genesys Mobile Services tag filter such as ``gws.api.v2.users.<id>.*``
(everything), ``gws.api.v2.users.<id>.calls.*`` (calls only) or
``gws.api.v2.users.<id>.devices.*`` (devices only). We give every pushable
event a topic in that namespace::

    gws.api.v2.users.<agent>.calls.<call id>           call.*  (not call.error)
    gws.api.v2.users.<agent>.devices.<device id>       agent.*, device.state_changed
    gws.api.v2.users.<agent>.channels.<media>          channel.state_changed
    gws.api.v2.users.<agent>.interactions.<id>         interaction.*, chat.message
    gws.api.v2.users.<agent>.workbins.<workbin>        workbin.*
    gws.api.v2.users.<agent>.services.<service>        service.state_changed

``<agent>`` is the agent as the bridge knows it (the event's ``partitionkey``).
Errors (``call.error``, ``device.error``, which GWS does not push either) and
the bridge's own events have no topic and are never pushed.

A filter is one or more patterns separated by commas; ``*`` matches any run of
characters (dots included, since agent names may contain dots); ``<id>``
stands for the device's own agent (so GWS's documented
``gws.api.v2.users.<id>.calls.*`` works as written); everything else matches
literally.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bridge.events import Event

__all__ = ["TOPIC_PREFIX", "filter_matches", "topic_for", "validate_filter"]

TOPIC_PREFIX = "gws.api.v2.users."

_COLLECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # event type prefix -> (collection, data keys holding the resource id, first present wins)
    "call.": ("calls", ("call_id",)),
    "agent.": ("devices", ("device_id",)),
    "device.": ("devices", ("device_id",)),
    "channel.": ("channels", ("channel",)),
    "interaction.": ("interactions", ("interaction_id",)),
    "chat.": ("interactions", ("interaction_id",)),
    "workbin.": ("workbins", ("workbin",)),
    "service.": ("services", ("service_type", "service_id", "service_name")),
}
_NOT_PUSHED = frozenset({"call.error", "device.error"})
_FILTER_CHARS = re.compile(r"^[A-Za-z0-9_.@*<>:+-]+$")
MAX_FILTER_LENGTH = 512


def topic_for(event: Event) -> str | None:
    """The GWS push topic of ``event``, or ``None`` when this kind of event is never pushed."""
    if event.type in _NOT_PUSHED:
        return None
    for prefix, (collection, keys) in _COLLECTIONS.items():
        if event.type.startswith(prefix):
            resource = next((str(event.data[k]) for k in keys if event.data.get(k) not in (None, "")), "_")
            return f"{TOPIC_PREFIX}{event.partitionkey}.{collection}.{resource}"
    return None


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def filter_matches(filter_: str | None, topic: str, *, agent: str | None = None) -> bool:
    """Whether ``topic`` passes ``filter_`` (``None`` or empty: every topic passes).

    With ``agent``, the placeholder ``<id>`` in the filter (as GWS writes it) stands for that agent.
    """
    if not filter_:
        return True
    if agent is not None:
        filter_ = filter_.replace("<id>", agent)
    return any(_compile(pattern.strip()).match(topic) for pattern in filter_.split(",") if pattern.strip())


def validate_filter(filter_: str) -> str:
    """``filter_`` stripped; raises ``ValueError`` saying what is wrong with it."""
    value = filter_.strip()
    if not value:
        raise ValueError("filter is empty; leave it out to receive every notification")
    if len(value) > MAX_FILTER_LENGTH:
        raise ValueError(f"filter is longer than {MAX_FILTER_LENGTH} characters")
    for pattern in value.split(","):
        pattern = pattern.strip()
        if not pattern:
            raise ValueError("filter has an empty pattern between commas")
        if not _FILTER_CHARS.match(pattern):
            raise ValueError(f"filter pattern {pattern!r} has characters outside [A-Za-z0-9_.@*<>:+-]")
        if not pattern.startswith("gws.") and pattern != "*":
            raise ValueError(f"filter pattern {pattern!r} must start with 'gws.' (gws.api.v2.users.<id>.*)")
    return value
