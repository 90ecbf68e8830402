"""The normalizer's memory: the last-known state of one agent's subjects.

The normalizer is a pure function of (message, last-known state). The state
holds, per subject (``call/<id>``, ``device/<id>``, ``agent/<agent>``, …), a
small JSON-able dict, plus one sequence counter per subject.

Sequence guarantee
------------------
``next_sequence(subject)`` is strictly increasing per subject for as long as
the state lives, and across every load/save cycle of :class:`bridge.gws.state_store.RedisStateStore`,
**even when a save was lost** (a subscriber crashed after publishing events
but before saving). Numbers are not contiguous:

* each ``RedisStateStore.load`` atomically bumps a per-agent *epoch* and
  raises the floor of every counter to ``(epoch - 1) * 2**24``; a holder that
  crashed after its last save can only have handed out numbers below the next
  epoch's floor (fewer than 2**24 events per subject per load), so none is
  ever reused;
* :meth:`NormalizerState.delete` retires the subject's counter into the
  floor, so a subject that reappears after being pruned continues above it.

The first load of an agent starts at epoch 1, i.e. floor 0: a fresh state
numbers 1, 2, 3 …

A save is fenced by the epoch: once another holder has loaded the agent,
saving an older :class:`MemoryState` raises :class:`StaleStateError` instead
of overwriting the newer holder's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.errors import BridgeError

__all__ = [
    "EPOCH_BLOCK",
    "MemoryState",
    "NormalizerState",
    "StaleStateError",
    "StateChanges",
    "StateStoreError",
]

#: sequence numbers reserved per subject per load (see the module docstring)
EPOCH_BLOCK = 1 << 24


class StateStoreError(BridgeError):
    """The state store (Redis) failed; the message names the agent and the step."""


class StaleStateError(StateStoreError):
    """Another holder loaded this agent's state after this one: the save was refused."""


class NormalizerState(Protocol):
    """The last-known state of one agent's subjects; synchronous and in memory.

    ``get`` returns the stored dict itself: callers must treat it as read-only
    and call ``set`` with a new dict to change it.
    """

    def get(self, subject: str) -> dict[str, Any] | None: ...

    def set(self, subject: str, value: dict[str, Any]) -> None: ...

    def delete(self, subject: str) -> None: ...

    def subjects(self, prefix: str = "") -> list[str]: ...

    def next_sequence(self, subject: str) -> int:
        """1, 2, 3 … per subject (strictly increasing, never reused)."""
        ...


@dataclass(frozen=True)
class StateChanges:
    """What changed in a :class:`MemoryState` since it was loaded or last saved."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: frozenset[str] = frozenset()
    sequences: dict[str, int] = field(default_factory=dict)
    floor: int | None = None  # the retired-counter floor, when it changed
    versions: dict[str, int] = field(default_factory=dict)  # internal: dirty-marker versions

    def __bool__(self) -> bool:
        return bool(self.values or self.deleted or self.sequences or self.floor is not None)


_FLOOR_KEY = "\x00floor"


class MemoryState:
    """In-memory :class:`NormalizerState` that records what changed since the last save.

    ``epoch`` is set by :meth:`RedisStateStore.load` (``None`` for a state that
    was never loaded from a store); ``floor`` is the lowest value every
    sequence counter continues from.
    """

    def __init__(
        self,
        values: dict[str, dict[str, Any]] | None = None,
        sequences: dict[str, int] | None = None,
        *,
        floor: int = 0,
        retired_floor: int = 0,
        epoch: int | None = None,
    ) -> None:
        self._values: dict[str, dict[str, Any]] = dict(values or {})
        self._sequences: dict[str, int] = dict(sequences or {})
        self._retired = retired_floor
        self._floor = max(floor, retired_floor)
        self.epoch = epoch
        self._dirty: dict[str, int] = {}  # key -> version; keys are "v:", "q:" prefixed or _FLOOR_KEY
        self._version = 0

    def _touch(self, key: str) -> None:
        self._version += 1
        self._dirty[key] = self._version

    def get(self, subject: str) -> dict[str, Any] | None:
        return self._values.get(subject)

    def set(self, subject: str, value: dict[str, Any]) -> None:
        self._values[subject] = value
        self._version += 1
        self._dirty["v:" + subject] = self._version

    def delete(self, subject: str) -> None:
        """Forget the subject; its sequence counter is retired into the floor."""
        if self._values.pop(subject, None) is not None:
            self._touch("v:" + subject)
        counter = self._sequences.pop(subject, None)
        if counter is not None:
            self._touch("q:" + subject)
            if counter > self._retired:
                self._retired = counter
                self._floor = max(self._floor, counter)
                self._touch(_FLOOR_KEY)

    def subjects(self, prefix: str = "") -> list[str]:
        if not prefix:
            return list(self._values)
        return [s for s in self._values if s.startswith(prefix)]

    def next_sequence(self, subject: str) -> int:
        current = self._sequences.get(subject, 0)
        value = (current if current > self._floor else self._floor) + 1
        self._sequences[subject] = value
        self._version += 1  # _touch, inlined: this is on every event's path
        self._dirty["q:" + subject] = self._version
        return value

    def changes(self) -> StateChanges:
        """The values, deletions and counters changed since the last load or save."""
        values: dict[str, dict[str, Any]] = {}
        deleted: set[str] = set()
        sequences: dict[str, int] = {}
        floor: int | None = None
        for key in self._dirty:
            if key == _FLOOR_KEY:
                floor = self._retired
                continue
            subject = key[2:]
            if key[0] == "v":
                value = self._values.get(subject)
                if value is None:
                    deleted.add(subject)
                else:
                    values[subject] = value
            else:
                counter = self._sequences.get(subject)
                if counter is None:
                    deleted.add(subject)
                else:
                    sequences[subject] = counter
        return StateChanges(values, frozenset(deleted), sequences, floor, dict(self._dirty))

    def mark_saved(self, changes: StateChanges) -> None:
        """Forget dirty markers that ``changes`` captured (unless changed again since)."""
        for key, version in changes.versions.items():
            if self._dirty.get(key) == version:
                del self._dirty[key]

    def __len__(self) -> int:
        return len(self._values)
