"""The Statistics API (seed 003, "Statistics API"): values derived from the simulator's own activity.

:class:`StatsEngine` watches every call notification (a ``Simulator.observers`` entry): an inbound
call that starts ringing at one of an object's agents enters the object's queue; answered, it
counts as answered (with its wait), released while still waiting, as abandoned. ``/sim/queues/
{objectId}/overload`` adds callers nobody is offered to (``set_waiting``), to push a queue over a
threshold. Agent counts are read from the agents' device states when sampled.

Each statistic keeps a history of values: a new one is recorded whenever a sample (after every
observed change and on every read) differs from the last, stamped in epoch milliseconds. Object
ids are the configured queues' ids, or an agent's user name or id for AGENT statistics.

A sample costs the same however many calls came before it: the answered calls' waits are kept as
a running total and, per service-level threshold, a running count of those within it (the
simulator publishes every notification through :meth:`StatsEngine.observe`, so a sample that
summed every wait made each call dearer than the last: ~0.6 ms per notification after 5,000
calls, which showed as the simulator's CPU in ``bench/e2e.py``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.envelopes import OperationError
from simulator.model import SimState, User
from simulator.stats_config import StatisticDefinition, StatObject

__all__ = ["StatsEngine"]

_HISTORY = 1000
_TOPIC_CALLS = "/v2/me/calls"
_AGENT_COUNTS = frozenset({"CurrentReadyAgents", "CurrentNotReadyAgents", "CurrentNumberLoggedInAgents"})


@dataclass(slots=True)
class _Tally:
    obj: StatObject
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_wait: float = 0.0  # the answered calls' waits, summed
    within: dict[int, int] = field(default_factory=dict)  # threshold (s) -> answered calls within it
    abandoned_wait: float = 0.0
    waiting: dict[str, float] = field(default_factory=dict)  # call id -> since (epoch s)
    virtual: deque[float] = field(default_factory=deque)  # overload callers -> since
    history: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)


class StatsEngine:
    def __init__(
        self,
        state: SimState,
        definitions: list[StatisticDefinition],
        objects: list[StatObject],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.definitions = definitions
        self.clock = clock
        self._tallies = {obj.id: _Tally(obj) for obj in objects}
        # the configured objects never change: which of them count a user's calls, per user name
        self._objects_of: dict[str, list[_Tally]] = {}
        # each object type's definitions by name (a later entry of the same name wins)
        by_type: dict[str, dict[str, StatisticDefinition]] = {}
        for definition in definitions:
            by_type.setdefault(definition.object_type, {})[definition.name] = definition
        self._by_type = {kind: list(named.items()) for kind, named in by_type.items()}
        self._thresholds = sorted(
            {d.service_threshold() for d in definitions if d.statistic_definition_name == "ServiceFactor"}
        )

    def _answered(self, tally: _Tally, wait: float) -> None:
        tally.answered += 1
        tally.answered_wait += wait
        for threshold in self._thresholds:
            if wait <= threshold:
                tally.within[threshold] = tally.within.get(threshold, 0) + 1

    # -- observing --------------------------------------------------------------------------------

    def observe(self, channel: str, data: dict[str, Any], user: str | None) -> None:
        """A ``Simulator.observers`` entry: count call arrivals, answers and abandons."""
        if channel != _TOPIC_CALLS or user is None or data.get("messageType") != "CallStateChangeMessage":
            return
        call = data.get("call") or {}
        call_id, state = str(call.get("id")), call.get("state")
        now = self.clock()
        for tally in self._tallies_of(user):
            if state == "Ringing" and call.get("callType") == "Inbound" and call_id not in tally.waiting:
                if data.get("notificationType") == "StatusChange":
                    tally.entered += 1
                    tally.waiting[call_id] = now
            elif call_id in tally.waiting and state in ("Established", "Released"):
                wait = now - tally.waiting.pop(call_id)
                if state == "Established":
                    self._answered(tally, wait)
                else:
                    tally.abandoned += 1
                    tally.abandoned_wait += wait
            else:
                continue
            self._sample(tally)

    def _tallies_of(self, user_name: str) -> list[_Tally]:
        tallies = self._objects_of.get(user_name)
        if tallies is None:
            tallies = self._objects_of[user_name] = [
                t
                for t in self._tallies.values()
                if t.obj.type != "AGENT" and (t.obj.agents is None or user_name in t.obj.agents)
            ]
        agent = self._tallies.get(user_name)
        if agent is None and user_name in self.state.users:
            agent = self._tallies.setdefault(user_name, _Tally(StatObject(user_name, "AGENT", (user_name,))))
        return tallies if agent is None or agent in tallies else [*tallies, agent]

    def set_waiting(self, object_id: str, waiting: int, *, abandon: bool = False) -> dict[str, Any]:
        """Set the number of overload callers waiting in a queue; those removed are answered (or
        abandoned). KeyError for an unknown queue."""
        tally = self._tallies[object_id]
        if tally.obj.type == "AGENT":
            raise KeyError(object_id)
        now = self.clock()
        while len(tally.virtual) < waiting:
            tally.entered += 1
            tally.virtual.append(now)
        while len(tally.virtual) > waiting:
            wait = now - tally.virtual.popleft()
            if abandon:
                tally.abandoned += 1
                tally.abandoned_wait += wait
            else:
                self._answered(tally, wait)
        self._sample(tally)
        return {"objectId": object_id, "waiting": len(tally.virtual) + len(tally.waiting)}

    # -- computing --------------------------------------------------------------------------------

    def _agents(self, tally: _Tally) -> list[User]:
        names = tally.obj.agents
        users = self.state.users
        return list(users.values()) if names is None else [users[n] for n in names if n in users]

    def _value(
        self, tally: _Tally, definition: StatisticDefinition, now: float, states: list[str] | None
    ) -> float | int:
        kind = definition.statistic_definition_name
        if kind == "TotalCallsEntered":
            return tally.entered
        if kind == "TotalCallsAnswered":
            return tally.answered
        if kind == "TotalCallsAbandoned":
            return tally.abandoned
        if kind == "CurrNumberWaitingCalls":
            return len(tally.waiting) + len(tally.virtual)
        if kind == "CurrMaxWaitingTime":
            since = [*tally.waiting.values(), *tally.virtual]
            return int(now - min(since)) if since else 0
        if kind == "AverageWaitingTime":
            handled = tally.answered + tally.abandoned
            return round((tally.answered_wait + tally.abandoned_wait) / handled, 1) if handled else 0
        if kind == "ServiceFactor":
            handled = tally.answered + tally.abandoned
            within = tally.within.get(definition.service_threshold(), 0)
            return round(100.0 * within / handled, 1) if handled else 100.0
        if states is None:
            states = self._states(tally)
        if kind == "CurrentReadyAgents":
            return states.count("Ready")
        if kind == "CurrentNotReadyAgents":
            return states.count("NotReady")
        return sum(1 for state in states if state != "LoggedOut")  # CurrentNumberLoggedInAgents

    def _states(self, tally: _Tally) -> list[str]:
        return [user.device.user_state.state for user in self._agents(tally)]

    def _sample(self, tally: _Tally) -> None:
        now = self.clock()
        stamp = int(now * 1000)
        states: list[str] | None = None  # the agents' states, read once per sample when needed
        for name, definition in self._by_type.get(tally.obj.type, ()):
            if states is None and definition.statistic_definition_name in _AGENT_COUNTS:
                states = self._states(tally)
            value = self._value(tally, definition, now, states)
            history = tally.history.get(name)
            if history is None:
                history = tally.history[name] = deque(maxlen=_HISTORY)
            if not history or history[0][0] != value:
                history.appendleft((value, stamp))

    def _tally(self, object_id: str) -> _Tally:
        tally = self._tallies.get(object_id)
        if tally is None:
            user = self.state.user(object_id) or next(
                (u for u in self.state.users.values() if u.id == object_id), None
            )
            if user is None:
                raise OperationError(6, f"Object {object_id} not found")
            tally = self._tallies_of(user.user_name)[-1]
        self._sample(tally)
        return tally

    # -- the API replies --------------------------------------------------------------------------

    def latest(self, object_id: str) -> dict[str, Any]:
        """``GET /api/v1/stats/{objectId}``."""
        tally = self._tally(object_id)
        statistics = [
            {"statistic": name, "value": history[0][0], "time": history[0][1]}
            for name, history in tally.history.items()
        ]
        return {"objectId": object_id, "statusCode": 0, "statistics": statistics}

    def values(
        self, object_id: str, name: str, num_values: int | None, start: int | None, end: int | None
    ) -> dict[str, Any]:
        """``GET /api/v1/stats/{objectId}/{statisticName}``: newest first; ``numValues`` (default 1,
        or every value in the ``from``-``to`` range when one is given) caps the count."""
        tally = self._tally(object_id)
        history = tally.history.get(name)
        if history is None:
            raise OperationError(6, f"Statistic {name} not found for object {object_id}")
        chosen = [(v, t) for v, t in history if (start is None or t >= start) and (end is None or t <= end)]
        limit = num_values if num_values is not None else (len(chosen) if start or end else 1)
        values = [{"value": value, "time": stamp} for value, stamp in chosen[:limit]]
        return {"statusCode": 0, "objectId": object_id, "statistics": [{"statistic": name, "values": values}]}
