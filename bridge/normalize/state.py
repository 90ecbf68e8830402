"""The normalizer's memory: the last-known state of one agent's subjects.

The normalizer is a pure function of (message, last-known state). The state
holds, per subject (``call/<id>``, ``device/<id>``, ``agent/<agent>``, …), a
small JSON-able dict, plus one sequence counter per subject.

Sequence guarantee
------------------
``next_sequence(subject)`` is strictly increasing per subject for as long as
the state lives, and across every :class:`RedisStateStore` load/save cycle,
**even when a save was lost** (a subscriber crashed after publishing events
but before saving). Numbers are not contiguous:

* each :meth:`RedisStateStore.load` atomically bumps a per-agent *epoch* and
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

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from bridge.errors import BridgeError

if TYPE_CHECKING:
    import redis.asyncio

__all__ = [
    "EPOCH_BLOCK",
    "MemoryState",
    "NormalizerState",
    "RedisStateStore",
    "StaleStateError",
    "StateChanges",
    "StateStoreError",
]

logger = logging.getLogger(__name__)

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


# Save = one Lua script: refuse when another holder loaded the agent since
# (epoch fence), then HSET the changed fields and HDEL the deleted ones.
_SAVE_SCRIPT = """
local stored = redis.call('HGET', KEYS[1], 'epoch')
if ARGV[1] ~= '' and stored and stored ~= ARGV[1] then return 0 end
local nset = tonumber(ARGV[2])
local i = 3
local last = i + 2 * nset - 1
while i <= last do
  local stop = math.min(i + 999, last)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, stop))
  i = stop + 1
end
local n = #ARGV
while i <= n do
  local stop = math.min(i + 999, n)
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, stop))
  i = stop + 1
end
return 1
"""


class RedisStateStore:
    """Production persistence of :class:`MemoryState`: one Redis hash per agent.

    Hash ``<prefix><agent>``: ``v:<subject>`` → JSON value, ``q:<subject>`` →
    sequence counter, ``floor`` → retired-counter floor, ``epoch`` → number of
    loads so far (the fence; see the module docstring).
    """

    def __init__(self, redis: redis.asyncio.Redis, *, prefix: str = "gwsb:state:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SAVE_SCRIPT)

    def key(self, agent: str) -> str:
        """The Redis key holding ``agent``'s state."""
        return self._prefix + agent

    async def load(self, agent: str) -> MemoryState:
        """Take over ``agent``'s state: bumps the epoch; empty state if nothing stored.

        Raises :class:`StateStoreError` when Redis fails.
        """
        import redis.exceptions

        key = self.key(agent)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(key, "epoch", 1)
                pipe.hgetall(key)
                epoch, raw = await pipe.execute()
        except redis.exceptions.RedisError as exc:
            raise StateStoreError(f"loading the normalizer state of agent {agent!r} failed: {exc}") from exc
        values: dict[str, dict[str, Any]] = {}
        sequences: dict[str, int] = {}
        retired = 0
        for field_b, value_b in raw.items():
            name = field_b.decode() if isinstance(field_b, bytes) else str(field_b)
            try:
                if name.startswith("v:"):
                    value = orjson.loads(value_b)
                    if isinstance(value, dict):
                        values[name[2:]] = value
                elif name.startswith("q:"):
                    sequences[name[2:]] = int(value_b)
                elif name == "floor":
                    retired = int(value_b)
            except (ValueError, orjson.JSONDecodeError):
                logger.warning("skipping unreadable state field", extra={"agent": agent, "field": name})
        floor = (int(epoch) - 1) * EPOCH_BLOCK
        logger.debug(
            "normalizer state loaded",
            extra={"agent": agent, "epoch": int(epoch), "subjects": len(values)},
        )
        return MemoryState(values, sequences, floor=floor, retired_floor=retired, epoch=int(epoch))

    async def save(self, agent: str, state: MemoryState) -> None:
        """Write what changed since the last load/save of ``state`` (one atomic script).

        Raises :class:`StaleStateError` when another holder loaded ``agent``
        since ``state`` was loaded, :class:`StateStoreError` when Redis fails.
        """
        import redis.exceptions

        changes = state.changes()
        if not changes:
            return
        pairs: list[Any] = []
        for subject, value in changes.values.items():
            pairs += ("v:" + subject, orjson.dumps(value))
        for subject, counter in changes.sequences.items():
            pairs += ("q:" + subject, counter)
        if changes.floor is not None:
            pairs += ("floor", changes.floor)
        deletions = _deleted_fields(changes.deleted, changes)
        args = ["" if state.epoch is None else str(state.epoch), len(pairs) // 2, *pairs, *deletions]
        try:
            ok = await self._script(keys=[self.key(agent)], args=args)
        except redis.exceptions.RedisError as exc:
            raise StateStoreError(f"saving the normalizer state of agent {agent!r} failed: {exc}") from exc
        if not ok:
            raise StaleStateError(
                f"normalizer state of agent {agent!r} was loaded by another holder since epoch "
                f"{state.epoch}; this holder's save was refused"
            )
        state.mark_saved(changes)


def _deleted_fields(deleted: Iterable[str], changes: StateChanges) -> list[str]:
    fields: list[str] = []
    for subject in deleted:
        if subject not in changes.values:
            fields.append("v:" + subject)
        if subject not in changes.sequences:
            fields.append("q:" + subject)
    return fields
