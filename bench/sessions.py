"""How many agent sessions one subscriber process holds, and what they cost.

Starts ``gws-bridge simulate --agents N`` as a subprocess (or uses ``--gws-url``),
then runs N ``AgentSession``s in this process on one shared aiohttp connector
(as ``SessionPool`` does; leases are left out: they cost one Redis round trip
per tick for the whole pool). Measures:

* ``connect_s``: time until every session is logged in, subscribed and has
  recovered its state;
* ``rss_mb`` (and ``rss_per_session_kb``): resident memory after connecting;
* ``idle_cpu_pct``: this process's CPU while the sessions sit in long-polls;
* ``latency_ms``: from just before ``POST /sim/calls`` (the simulator publishes
  ``Ringing`` while handling it) to the ``call.ringing`` event reaching the
  sink, for ``--calls`` calls spread over the agents at ``--rate`` per second.

Prints one JSON line on stdout; progress goes to stderr. Example:

    .venv/bin/python bench/sessions.py --agents 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bridge.config.gws import GwsSettings
from bridge.demo.stack import free_port
from bridge.events import Event
from bridge.gws.session import AgentSession

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench/sessions] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class GcPauses:
    """Collects garbage-collector pauses (gc.callbacks): with thousands of sessions a full
    collection walks every object, which shows up as latency outliers."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def reset(self) -> None:
        self.pauses.clear()

    def summary(self) -> dict[str, Any]:
        full = [pause for generation, pause in self.pauses if generation == 2]
        return {
            "gc_full_collections": len(full),
            "gc_max_pause_ms": round(1000 * max((p for _, p in self.pauses), default=0.0), 1),
        }


class LatencySink:
    """Records when each call's ``call.ringing`` event comes out."""

    def __init__(self) -> None:
        self.ringing_at: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.events = 0

    async def publish(self, events: Sequence[Event]) -> None:
        now = time.perf_counter()
        self.events += len(events)
        for event in events:
            if event.type == "call.ringing":
                call_id = event.subject.removeprefix("call/")
                self.ringing_at.setdefault(call_id, now)
                waiter = self.waiters.pop(call_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)


def start_simulator(agents: int, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "bridge.cli", "simulate", "--log-level", "WARNING",
        "--host", "127.0.0.1", "--port", str(port), "--agents", str(agents),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


async def wait_for_gws(http: aiohttp.ClientSession, base_url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            async with http.get(base_url + "/api/v2/diagnostics/version") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"simulator at {base_url} did not answer within {within} s")
        await asyncio.sleep(0.1)


async def start_call(http: aiohttp.ClientSession, base_url: str, agent: str) -> str:
    async with http.post(base_url + "/sim/calls", json={"to": agent}) as response:
        body: dict[str, Any] = await response.json(loads=orjson.loads)
        if response.status >= 300:
            raise RuntimeError(f"POST /sim/calls failed: {response.status} {body}")
    return str(body.get("id") or body.get("callId") or body["call"]["id"])


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    process = None
    base_url = args.gws_url
    if base_url is None:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log(f"starting simulator with {args.agents} agents on {base_url}")
        process = start_simulator(args.agents, port)
    control = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    sessions: list[AgentSession] = []
    tasks: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)
    try:
        await wait_for_gws(control, base_url, 60)
        rss_start = rss_mb()
        gc_pauses = GcPauses()
        sink = LatencySink()
        gws = GwsSettings(base_url=base_url, request_timeout=60)
        gate = asyncio.Semaphore(args.concurrent_starts)
        names = [f"agent{i:04d}" for i in range(1, args.agents + 1)]
        sim_cpu0 = process_cpu_seconds(process.pid) if process is not None else 0.0
        own_cpu0 = cpu_seconds()
        started = time.perf_counter()
        for name in names:
            session = AgentSession(
                gws, name, args.password, sink=sink, connector=connector, start_gate=gate,
                connection_timeout=60,
            )  # fmt: skip
            sessions.append(session)
            tasks.append(asyncio.create_task(session.run()))
        deadline = started + args.connect_timeout
        while True:
            ready = sum(1 for s in sessions if s.status.connected and s.status.recoveries > 0)
            if ready == len(sessions):
                break
            if time.perf_counter() > deadline:
                limit = args.connect_timeout
                raise RuntimeError(f"only {ready}/{len(sessions)} sessions connected in {limit} s")
            await asyncio.sleep(0.2)
        connect_s = time.perf_counter() - started
        if args.gc_freeze:
            gc.freeze()  # what a long-running subscriber can do once its sessions are up
        connect_cpu_s = cpu_seconds() - own_cpu0
        sim_connect_cpu_s = process_cpu_seconds(process.pid) - sim_cpu0 if process is not None else None
        rss_connected = rss_mb()
        log(
            f"{len(sessions)} sessions connected in {connect_s:.1f} s (CPU: bridge {connect_cpu_s:.1f} s, "
            f"simulator {sim_connect_cpu_s} s), RSS {rss_connected:.0f} MB"
        )

        await asyncio.sleep(2)  # let the start-up settle
        gc_pauses.reset()
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(args.idle)
        idle_cpu_pct = 100 * (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
        log(f"idle CPU {idle_cpu_pct:.1f}% of one core over {args.idle} s")

        latencies: list[float] = []
        loop = asyncio.get_running_loop()

        async def one_call(agent: str) -> None:
            sent = time.perf_counter()
            call_id = await start_call(control, base_url, agent)
            arrived = sink.ringing_at.get(call_id)
            if arrived is None:
                waiter = sink.waiters.setdefault(call_id, loop.create_future())
                arrived = await asyncio.wait_for(waiter, timeout=30)
            latencies.append(arrived - sent)

        pending = []
        for i in range(args.calls):
            pending.append(asyncio.create_task(one_call(random.choice(names))))
            await asyncio.sleep(1 / args.rate)
            if i % max(1, args.rate) == 0:
                log(f"{i}/{args.calls} calls started")
        results = await asyncio.gather(*pending, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        latencies.sort()
        p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else None
        reconnects = sum(s.status.reconnects for s in sessions)
        return {
            "bench": "sessions",
            "sessions": len(sessions),
            "connect_s": round(connect_s, 2),
            "connect_cpu_s": round(connect_cpu_s, 1),
            "simulator_connect_cpu_s": round(sim_connect_cpu_s, 1) if sim_connect_cpu_s is not None else None,
            "rss_mb": round(rss_connected, 1),
            "rss_per_session_kb": round((rss_connected - rss_start) * 1024 / len(sessions), 1),
            "idle_cpu_pct": round(idle_cpu_pct, 1),
            "calls": len(latencies),
            "call_failures": len(failures),
            "latency_ms_p50": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "latency_ms_p99": round(1000 * p99, 1) if p99 is not None else None,
            "latency_ms_max": round(1000 * latencies[-1], 1) if latencies else None,
            "reconnects": reconnects,
            **gc_pauses.summary(),
            "gc_freeze": args.gc_freeze,
            "events": sink.events,
            "cpus": os.cpu_count(),
        }
    finally:
        for session in sessions:
            await session.stop()
        if tasks:
            closing = time.perf_counter()
            _, still = await asyncio.wait(tasks, timeout=60)
            log(f"sessions closed in {time.perf_counter() - closing:.1f} s ({len(still)} cancelled)")
            for task in still:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await connector.close()
        await control.close()
        if process is not None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=2000, help="agent sessions (default 2000)")
    parser.add_argument("--calls", type=int, default=200, help="calls for the latency figure")
    parser.add_argument("--rate", type=int, default=20, help="calls per second")
    parser.add_argument(
        "--idle", type=float, default=35.0,
        help="seconds of idle CPU measurement (cover a long-poll cycle: 30 s in the simulator)",
    )  # fmt: skip
    parser.add_argument("--concurrent-starts", type=int, default=64, help="sessions starting at once")
    parser.add_argument("--connect-timeout", type=float, default=90.0, help="seconds to connect them all")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once every session is up")
    parser.add_argument("--gws-url", help="use this running simulator instead of starting one")
    parser.add_argument("--password", default="password", help="the agents' password (simulator default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(measure(args))
    print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
