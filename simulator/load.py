"""``/sim/load``: scripted call flows (ring, answer, attach data, release) spread across agents.

One driver task per load starts ``calls_per_second`` flows a second for ``seconds`` seconds,
round-robin over the first ``agents`` agents; each flow's later steps are loop timers, not
tasks, so a load costs one task however many calls are in flight. Progress is readable
while it runs (``GET /sim/load/{id}``). A :class:`LoadRegistry` holds one simulator's loads; it
works on the simulator's state and voice engine, not on the simulator itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.model import CallState, SimState
from simulator.voice import VoiceEngine

__all__ = ["LoadRegistry", "LoadRunner", "LoadSpec"]

_KEEP_FINISHED = 99  # finished reports kept besides the new one (the last 100 loads)


@dataclass(slots=True)
class LoadSpec:
    """What to run; ``answer_after`` and ``talk_time`` are seconds after ringing / answering."""

    agents: int
    calls_per_second: float
    seconds: float
    answer_after: float = 0.05
    talk_time: float = 0.2
    user_data: dict[str, Any] = field(default_factory=lambda: {"CustomerName": "Load Test", "POC": "Load"})

    @classmethod
    def from_json(cls, body: dict[str, Any], agent_count: int) -> LoadSpec:
        """Validate a ``/sim/load`` body; ValueError with the offending field."""
        try:
            spec = cls(
                agents=int(body.get("agents", agent_count)),
                calls_per_second=float(body["calls_per_second"]),
                seconds=float(body["seconds"]),
                answer_after=float(body.get("answer_after", 0.05)),
                talk_time=float(body.get("talk_time", 0.2)),
            )
        except KeyError as exc:
            raise ValueError(f"missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid number: {exc}") from None
        if not 1 <= spec.agents <= agent_count:
            raise ValueError(f"agents must be between 1 and {agent_count}")
        if spec.calls_per_second <= 0 or spec.seconds <= 0:
            raise ValueError("calls_per_second and seconds must be positive")
        return spec


class LoadRegistry:
    """One simulator's loads: started, found by id, stopped together; the last 100 reports kept."""

    def __init__(self, state: SimState, voice: VoiceEngine, published: Callable[[], int]) -> None:
        self._state = state
        self._voice = voice
        self._published = published
        self._runners: dict[str, LoadRunner] = {}

    def start(self, spec: LoadSpec) -> LoadRunner:
        """Start ``spec`` now (on the running loop); returns its runner."""
        finished = [key for key, old in self._runners.items() if not old.running]
        for key in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self._runners[key]
        runner = LoadRunner(self._state, self._voice, self._published, spec)
        self._runners[runner.id] = runner
        runner.start()
        return runner

    def get(self, load_id: str) -> LoadRunner | None:
        return self._runners.get(load_id)

    async def stop_all(self) -> None:
        for runner in list(self._runners.values()):
            await runner.stop()


class LoadRunner:
    """One running (or finished) load; ``progress()`` is its JSON report.

    ``published`` counts the notifications the simulator has published so far (for the rate).
    """

    def __init__(
        self, state: SimState, voice: VoiceEngine, published: Callable[[], int], spec: LoadSpec
    ) -> None:
        self.state = state
        self.voice = voice
        self.spec = spec
        self.id = uuid.uuid4().hex[:12]
        self.started_flows = 0
        self.answered = 0
        self.completed = 0
        self.skipped = 0
        self.started_at = time.monotonic()
        self.finished_at: float | None = None
        self._published = published
        self.notifications_at_start = published()
        self._timers: set[asyncio.TimerHandle] = set()
        self._task: asyncio.Task[None] | None = None
        names = sorted(state.users)[: spec.agents]
        self._agents = itertools.cycle(names)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drive(), name=f"sim-load-{self.id}")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self.finished_at is None:
            self.finished_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def progress(self) -> dict[str, Any]:
        now = self.finished_at or time.monotonic()
        elapsed = max(now - self.started_at, 1e-9)
        notifications = self._published() - self.notifications_at_start
        return {
            "id": self.id,
            "running": self.running,
            "agents": self.spec.agents,
            "callsPerSecond": self.spec.calls_per_second,
            "seconds": self.spec.seconds,
            "callsStarted": self.started_flows,
            "callsAnswered": self.answered,
            "callsCompleted": self.completed,
            "callsSkipped": self.skipped,
            "notifications": notifications,
            "elapsed": round(elapsed, 3),
            "notificationsPerSecond": round(notifications / elapsed, 1),
        }

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        total = int(self.spec.calls_per_second * self.spec.seconds)
        interval = 1.0 / self.spec.calls_per_second
        begin = loop.time()
        try:
            for index in range(total):
                delay = begin + index * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._start_flow()
            # let the last flows finish (their steps are timers)
            await asyncio.sleep(self.spec.answer_after + self.spec.talk_time + 0.05)
        finally:
            self.finished_at = time.monotonic()

    def _later(self, delay: float, callback: Any, *args: Any) -> None:
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            callback(*args)

        handle = asyncio.get_running_loop().call_later(delay, run)
        self._timers.add(handle)

    def _start_flow(self) -> None:
        user = self.state.users.get(next(self._agents))
        if user is None:
            self.skipped += 1
            return
        self.started_flows += 1
        number = f"555{self.started_flows % 10_000_000:07d}"
        call = self.voice.ring(user, number, None)
        self._later(self.spec.answer_after, self._answer, call.id)

    def _answer(self, call_id: str) -> None:
        call = self.state.calls.get(call_id)
        if call is None or call.state is not CallState.RINGING:
            return
        self.voice.establish(call)
        self.answered += 1
        self.voice.set_user_data(call, {**(call.user_data or {}), **self.spec.user_data})
        self._later(self.spec.talk_time, self._release, call_id)

    def _release(self, call_id: str) -> None:
        call = self.state.calls.get(call_id)
        if call is None or call.state is CallState.RELEASED:
            return
        self.voice.release(call)
        self.completed += 1
