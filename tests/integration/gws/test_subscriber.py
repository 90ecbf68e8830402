"""``gws-bridge subscriber`` as real processes: agents shared through Redis leases, one SIGKILLed.

The simulator runs as its own process (``simulator_process_factory``), Redis is
the private test server, and each subscriber writes its events as JSON lines
(``--print-events``) to a file that the test reads.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from tests.plugins.simulator import SimulatorHandle

ROOT = Path(__file__).resolve().parents[3]
LEASE_TTL = 3.0


class Subscriber:
    """One ``gws-bridge subscriber --print-events`` process; stdout and stderr go to files."""

    def __init__(self, name: str, config: Path, workdir: Path, *extra: str) -> None:
        self.name = name
        self.out = workdir / f"{name}.jsonl"
        self.err = workdir / f"{name}.log"
        args = [
            sys.executable, "-m", "bridge.cli", "subscriber", "--log-level", "INFO",
            "--config", str(config), "--print-events", "--lease-ttl", str(LEASE_TTL), *extra,
        ]  # fmt: skip
        with self.out.open("wb") as out, self.err.open("wb") as err:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)

    @property
    def owner_prefix(self) -> str:
        return f":{self.process.pid}:"

    def events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.out.read_bytes().splitlines():
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:  # a line cut by SIGKILL
                continue
        return events

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=10)


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    started: list[Subscriber] = []
    yield started
    for subscriber in started:
        if subscriber.process.poll() is None:
            subscriber.process.kill()
            subscriber.process.wait(timeout=10)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def write_config(path: Path, gws_url: str, redis_url: str, agents: list[str], password: str) -> Path:
    lines = [f'redis_url = "{redis_url}"', "", "[gws]", f'base_url = "{gws_url}"', ""]
    for agent in agents:
        lines += ["[[agents]]", f'username = "{agent}"', f'password = "{password}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


async def lease_owners(redis: Redis, agents: list[str]) -> list[str | None]:
    values = await redis.mget([f"gwsb:lease:agent:{agent}" for agent in agents])
    return [v.decode() if v is not None else None for v in values]


async def wait_until(
    condition: Callable[[], Any], *, within: float, what: str, interval: float = 0.1
) -> float:
    """Await ``condition()`` (sync or async) until truthy; returns the seconds it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(interval)


def call_events(subscribers: list[Subscriber]) -> dict[tuple[str, str], set[str]]:
    """(subject, type) → the distinct event ids seen, over every subscriber's output."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for subscriber in subscribers:
        for event in subscriber.events():
            if event["subject"].startswith("call/"):
                seen[(event["subject"], event["type"])].add(event["id"])
    return seen


async def start_calls(sim: SimulatorHandle, agents: list[str]) -> list[str]:
    return list(await asyncio.gather(*(sim.start_call(agent) for agent in agents)))


@pytest.mark.slow
async def test_survivor_takes_over_a_killed_subscribers_agents_without_duplicates(
    simulator_process_factory: Callable[..., SimulatorHandle],
    redis: Redis,
    redis_url: str,
    subscribers: list[Subscriber],
    tmp_path: Path,
) -> None:
    sim = simulator_process_factory(agents=100)
    agents = sim.agents
    config = write_config(tmp_path / "bridge.toml", sim.base_url, redis_url, agents, sim.password)
    doomed = Subscriber("doomed", config, tmp_path)
    subscribers.append(doomed)
    await wait_until(
        lambda: _owned_by(redis, agents, doomed, 100), within=20, what="the first subscriber to hold all 100"
    )
    survivor = Subscriber("survivor", config, tmp_path, "--status-interval", "1")
    subscribers.append(survivor)
    await wait_until(
        lambda: _owned_by(redis, agents, survivor, 50), within=20, what="the agents to be shared 50/50"
    )

    # Round 1: a call for every agent, ringing while both subscribers run.
    first_round = await start_calls(sim, agents)
    await wait_until(
        lambda: all((f"call/{c}", "call.ringing") in call_events(subscribers) for c in first_round),
        within=20,
        what="every first-round call to ring",
    )

    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    killed_at = time.monotonic()
    for call_id in first_round:  # half of them end while nobody holds their agent
        await sim.release_call(call_id)

    await wait_until(
        lambda: _owned_by(redis, agents, survivor, 100), within=LEASE_TTL + 5, what="the survivor to hold 100"
    )
    takeover = time.monotonic() - killed_at
    assert takeover <= LEASE_TTL + 3, f"takeover took {takeover:.1f} s"  # TTL + a tick + margin

    # Round 2: everything now goes through the survivor.
    second_round = await start_calls(sim, agents)
    await wait_until(
        lambda: all((f"call/{c}", "call.ringing") in call_events(subscribers) for c in second_round),
        within=20,
        what="every second-round call to ring",
    )
    for call_id in second_round:
        await sim.release_call(call_id)
    every_call = first_round + second_round
    await wait_until(
        lambda: all((f"call/{c}", "call.released") in call_events(subscribers) for c in every_call),
        within=20,
        what="every call to be released",
    )
    await asyncio.sleep(0.5)

    assert survivor.stop() == 0
    assert await lease_owners(redis, agents) == [None] * 100  # released on a clean stop
    seen = call_events(subscribers)
    for call_id in every_call:
        for event_type in ("call.ringing", "call.released"):
            ids = seen.get((f"call/{call_id}", event_type), set())
            assert len(ids) == 1, f"{event_type} of {call_id}: {len(ids)} distinct ids"
    duplicates = {key: ids for key, ids in seen.items() if len(ids) > 1}
    assert not duplicates
    log = survivor.err.read_text()
    assert "Traceback" not in log
    assert "pool status: 100 of 100 agents held, 100 connected" in log


async def _owned_by(redis: Redis, agents: list[str], subscriber: Subscriber | _Pid, count: int) -> bool:
    owners = await lease_owners(redis, agents)
    return sum(1 for owner in owners if owner and subscriber.owner_prefix in owner) == count


def test_subscriber_without_agents_is_a_configuration_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge.cli",
            "subscriber",
            "--print-events",
            "--gws-url",
            "http://127.0.0.1:9",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert b"no agents configured" in result.stderr


async def test_quick_trial_from_the_command_line_prints_events_and_never_logs_the_password(
    simulator_factory: Callable[..., Any], redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    secret = "S3cret-pw-0815"
    users = tmp_path / "users.toml"
    users.write_text(f'[[users]]\nuserName = "alice"\npassword = "{secret}"\ndn = "7001"\n', encoding="utf-8")
    sim = await simulator_factory(users_file=users)
    out, err = tmp_path / "out.jsonl", tmp_path / "err.log"
    args = [
        sys.executable, "-m", "bridge.cli", "subscriber", "--log-level", "DEBUG", "--print-events",
        "--gws-url", sim.base_url, "--agent", f"alice:{secret}", "--redis-url", redis_url, "--lease-ttl", "2",
    ]  # fmt: skip
    process = spawn(args, out, err)
    try:
        await wait_until(
            lambda: _owned_by(redis, ["alice"], _Pid(process.pid), 1), within=15, what="alice to be claimed"
        )
        call_id = await sim.start_call("alice")
        await wait_until(lambda: f'"call/{call_id}"'.encode() in out.read_bytes(), within=15, what="the call")
        process.send_signal(signal.SIGTERM)
        # Poll, don't block: the in-process simulator must keep answering the clean shutdown.
        await wait_until(lambda: process.poll() is not None, within=15, what="the subscriber to exit")
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert {"call.ringing"} <= {e["type"] for e in events if e["subject"] == f"call/{call_id}"}
    assert all(e["partitionkey"] == "alice" for e in events)
    log = err.read_text()
    assert "alice" in log and secret not in log
    assert await lease_owners(redis, ["alice"]) == [None]


def spawn(args: list[str], out: Path, err: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as stdout, err.open("wb") as stderr:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)


class _Pid:
    """Just enough of a Subscriber for ``_owned_by``."""

    def __init__(self, pid: int) -> None:
        self.owner_prefix = f":{pid}:"
