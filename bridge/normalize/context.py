"""What every message family needs: the agent context, tolerant readers and event building.

Event ids are deterministic (see :meth:`Context.emit`): a UUIDv5-style hash of
the agent, the subject, the event type, how many events of that type the
subject had before (its *occurrence*, kept in the subject's state) and a digest
of the change itself. Replaying a message changes no state, so it emits
nothing; re-deriving the same change elsewhere (state recovery, a replacement
subscriber whose last save was lost) gives the same id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from bridge.events import Event, EventType
from bridge.normalize.state import NormalizerState

__all__ = [
    "Context",
    "as_dict",
    "as_int",
    "as_list",
    "as_str",
    "digest",
    "last_path_segment",
    "str_list",
    "text",
]

# uuid.NAMESPACE_URL-style fixed namespace for gws-bridge event ids
_NAMESPACE = bytes.fromhex("6a1f3c2e9b8d4e7fa0c51d2b3e4f5a6b")


def event_id(name: str) -> str:
    """A UUID (version 5 layout: SHA-1 of namespace + ``name``) as a string."""
    h = hashlib.sha1(_NAMESPACE + name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
# shared: an Event is frozen, and model_copy copies the set before touching it
_FIELDS_SET = set(Event.model_fields)
_object_setattr = object.__setattr__


def digest(value: Any) -> str:
    """A short stable digest of a JSON-able value (key order does not matter)."""
    try:
        blob = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        blob = repr(value).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """Strings as they are, numbers as text, anything else ``None`` (empty string → ``None``)."""
    cls = value.__class__
    if cls is str:
        return value or None
    if value is None or cls is bool:
        return None
    if cls is int or cls is float:
        return str(value)
    if isinstance(value, str):  # subclasses
        return str(value) or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def text(value: Any) -> str | None:
    """:func:`as_str` with a fast path for what GWS usually sends: a string, or nothing."""
    if value.__class__ is str:
        return value or None
    return None if value is None else as_str(value)


def str_list(value: Any) -> list[str]:
    """The strings of a list, sorted (capabilities are unordered sets; quirk D8)."""
    if not isinstance(value, list):
        return []
    try:
        result = sorted(value)
    except TypeError:  # mixed types
        return sorted(v for v in value if isinstance(v, str))
    if result and (result[0].__class__ is not str or result[-1].__class__ is not str):
        return sorted(v for v in value if isinstance(v, str))
    return result


def as_int(value: Any) -> int | None:
    """``"363"`` → 363, ``12.0`` → 12; anything unparseable → ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else None
    if isinstance(value, str):
        text = value.strip().rstrip("Ll")
        if text.lstrip("-").isdigit() and len(text) < 19:
            return int(text)
    return None


def last_path_segment(uri: Any) -> str | None:
    """``http://h/api/v2/calls/0071`` → ``0071``; ``None`` for non-strings."""
    if not isinstance(uri, str):
        return None
    tail = uri.strip().rstrip("/").rsplit("/", 1)[-1]
    return tail or None


_RECENT_UNRECOGNIZED = 32


class Context:
    """One normalization run: agent, state, output list and the shared event fields."""

    __slots__ = ("agent", "events", "include_raw", "raw", "retired", "source", "state", "time", "topic")

    def __init__(
        self,
        *,
        agent: str,
        state: NormalizerState,
        source: str,
        include_raw: bool,
        time: datetime,
    ) -> None:
        self.agent = agent
        self.state = state
        self.source = f"{source}/{agent}"
        self.include_raw = include_raw
        self.time = time
        self.events: list[Event] = []
        self.raw: Any = None  # the single Bayeux message being normalized
        self.topic: str | None = None
        self.retired: list[str] = []  # subjects that reached a terminal state in this run

    def unrecognized(self, message: Any, kind: str | None, reason: str) -> None:
        """Emit ``gws.unrecognized`` with the raw message (an exact repeat of a recent one is skipped)."""
        subject = "unrecognized/" + self.agent
        change = digest(message)
        record_old = self.state.get(subject) or {}
        recent = [d for d in as_list(record_old.get("recent")) if isinstance(d, str)]
        if change in recent:
            return
        recent.append(change)
        self.state.set(subject, {"recent": recent[-_RECENT_UNRECOGNIZED:]})
        data = {
            "agent": self.agent,
            "topic": self.topic,
            "message_type": kind,
            "reason": reason,
            "raw": message,
        }
        include_raw = self.include_raw
        self.include_raw = False  # the raw message is already in data
        try:
            self.emit(EventType.GWS_UNRECOGNIZED, subject, data, change=change)
        finally:
            self.include_raw = include_raw

    def retire(self, subject: str) -> None:
        """Mark ``subject`` as finished (released call, closed interaction) so it can be pruned later."""
        self.retired.append(subject)

    def emit(
        self,
        event_type: EventType,
        subject: str,
        data: dict[str, Any],
        *,
        change: str,
        record: dict[str, Any] | None = None,
    ) -> Event:
        """Append one event.

        ``change`` identifies the change (new state, entry id, content digest);
        ``record`` is the subject's new state dict whose occurrence counter for
        this type is used and incremented (``None`` when ``change`` alone is
        unique, e.g. a chat entry id).
        """
        type_value: str = event_type._value_
        occurrence = 0
        if record is not None:  # the subject's occurrence count for this type, incremented
            counts = record.get("n")
            counts = dict(counts) if counts.__class__ is dict else {}
            occurrence = counts.get(type_value, 0)
            if occurrence.__class__ is not int:
                occurrence = 0
            counts[type_value] = occurrence + 1
            record["n"] = counts
        if self.include_raw and self.raw is not None:
            data["raw"] = self.raw
        # Event.model_construct without its per-call cost: every field is built here and valid
        # (type from EventType, JSON-safe data); a unit test checks it equals a validated Event
        event = Event.__new__(Event)
        _object_setattr(
            event,
            "__dict__",
            {
                "specversion": "1.0",
                "id": event_id(f"{self.agent}\x1f{subject}\x1f{type_value}\x1f{occurrence}\x1f{change}"),
                "source": self.source,
                "type": type_value,
                "subject": subject,
                "time": self.time,
                "datacontenttype": "application/json",
                "data": data,
                "sequence": self.state.next_sequence(subject),
                "partitionkey": self.agent,
                "traceparent": None,  # the subscriber's span, set when it hands the event on
            },
        )
        _object_setattr(event, "__pydantic_fields_set__", _FIELDS_SET)
        _object_setattr(event, "__pydantic_extra__", None)
        _object_setattr(event, "__pydantic_private__", None)
        self.events.append(event)
        return event


def data_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``{"added": {k: v}, "changed": {k: new v}, "removed": [k, …]}`` between two userData dicts."""
    old = old or {}
    added = {k: v for k, v in new.items() if k not in old}
    changed = {k: v for k, v in new.items() if k in old and old[k] != v}
    removed = sorted(k for k in old if k not in new)
    return {"added": added, "changed": changed, "removed": removed}


def user_data(value: Any) -> dict[str, Any] | None:
    """A userData object, or ``None`` when it is not an object.

    Keys are strings already: orjson only reads string keys, and dict input is
    made JSON-safe on the way in (``bridge.normalize.wire.jsonable``).
    """
    return value if isinstance(value, dict) else None
