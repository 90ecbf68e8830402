"""Benchmark: commands per second through the receiver, and the latency it adds over calling GWS directly.

Starts the simulator (``gws-bridge simulate``) and the receiver (``gws-bridge receiver``) as
separate processes on loopback, answers one call per agent, then runs the same workload twice
with the same concurrency:

1. direct: ``POST /api/v2/me/calls/{id} UpdateUserData`` to the simulator, one REST session per agent;
2. receiver: ``POST /v1/commands {"action": "call.update_data"}`` with a Bearer key. Each command
   is authenticated, rate-limited, validated, authorized, made idempotent (``Idempotency-Key``,
   with ``--idempotency``), performed with the agent's own session, and settled from CometD.

Then both again, paced (open loop) at ``--rate`` commands/s, where neither side queues: the
latency the receiver adds is ``overhead_p50_ms`` / ``overhead_p99_ms`` (receiver minus direct).
Prints one JSON line: commands/s through the receiver (and direct), saturated and paced
latencies, the sampled final statuses, and CPU figures that other load on the machine
disturbs far less than throughput: ``receiver_cpu_ms_per_command`` (the receiver process's
user + system CPU during the saturated run, divided by the commands) and
``receiver_cpu_ms_per_notification`` (its CPU during the direct run, when all it does is
receive the CometD notification each request causes and re-open its long-poll). Progress on stderr.

    .venv/bin/python bench/commands.py [--commands 6000] [--concurrency 32] [--agents 20]
                                       [--store redis|memory] [--rate 100] [--seconds 5]
                                       [--loop uvloop|asyncio] [--profile-receiver FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.demo.stack import free_port  # noqa: E402
from bridge.gws.rest import GwsRestClient  # noqa: E402

API_KEY = "bench-api-key"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start(args: list[str], url: str, timeout: float = 20.0) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args[3]} exited with {process.returncode}")
        try:
            with socket.create_connection(
                ("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0])), timeout=0.2
            ):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{url} did not come up")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU seconds a child process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def write_config(path: Path, sim_url: str, port: int, agents: list[str], store: str, redis_url: str) -> None:
    digest = "sha256:" + hashlib.sha256(API_KEY.encode()).hexdigest()
    lines = [f'redis_url = "{redis_url}"', "[gws]", f'base_url = "{sim_url}"', "request_timeout = 10.0"]
    for agent in agents:
        lines += ["[[agents]]", f'username = "{agent}"', 'password = "password"']
    lines += [
        "[inbound]",
        'host = "127.0.0.1"',
        f"port = {port}",
        f'store = "{store}"',
        "outcome_timeout = 10.0",
        "[[inbound.clients]]",
        'name = "bench"',
        f'api_key_hashes = ["{digest}"]',
        'agents = ["*"]',
        "rate_limit = 1000000.0",
        "burst = 1000000",
    ]
    path.write_text("\n".join(lines) + "\n")


async def prepare_calls(sim_url: str, agents: list[str]) -> dict[str, str]:
    """One established call per agent (rung through /sim, answered by the agent)."""
    calls: dict[str, str] = {}
    async with aiohttp.ClientSession() as http:
        for agent in agents:
            async with http.post(f"{sim_url}/sim/calls", json={"to": agent, "from": "5551234"}) as response:
                calls[agent] = str((await response.json())["id"])
    for agent, call_id in calls.items():
        async with GwsRestClient(sim_url, agent, "password") as client:
            await client.post(f"/me/calls/{call_id}", {"operationName": "Answer"})
    return calls


async def run_direct(
    sim_url: str, calls: dict[str, str], total: int, concurrency: int
) -> tuple[float, list[float]]:
    clients = {agent: GwsRestClient(sim_url, agent, "password") for agent in calls}
    for client in clients.values():
        await client.login()
    agents = list(calls)
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            agent = agents[i % len(agents)]
            body = {"operationName": "UpdateUserData", "userData": {"n": i}}
            started = time.perf_counter()
            await clients[agent].post(f"/me/calls/{calls[agent]}", body)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    for client in clients.values():
        await client.aclose()
    return elapsed, latencies


async def run_receiver(
    url: str, calls: dict[str, str], total: int, concurrency: int, idempotency: bool
) -> tuple[float, list[float], list[str], int]:
    agents = list(calls)
    latencies: list[float] = []
    ids: list[str] = []
    errors = 0
    counter = iter(range(total))
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                agent = agents[i % len(agents)]
                document = {"agent": agent, "action": "call.update_data",
                            "params": {"call_id": calls[agent], "user_data": {"n": i}}}  # fmt: skip
                sent = dict(headers, **({"Idempotency-Key": f"bench-{i}"} if idempotency else {}))
                started = time.perf_counter()
                async with http.post(
                    f"{url}/v1/commands", data=json.dumps(document), headers=sent
                ) as response:
                    payload = await response.json(content_type=None)
                latencies.append(time.perf_counter() - started)
                if response.status in (200, 202):
                    ids.append(payload["id"])
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, ids, errors


async def paced(send: Any, rate: float, seconds: float) -> list[float]:
    """Open loop: one request every 1/rate s for ``seconds`` (no client-side queueing); latencies."""
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    total = int(rate * seconds)
    started = time.perf_counter()

    async def one(i: int) -> None:
        begun = time.perf_counter()
        await send(i)
        latencies.append(time.perf_counter() - begun)

    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies


async def paced_direct(sim_url: str, calls: dict[str, str], rate: float, seconds: float) -> list[float]:
    clients = {agent: GwsRestClient(sim_url, agent, "password") for agent in calls}
    agents = list(calls)
    for client in clients.values():
        await client.login()

    async def send(i: int) -> None:
        agent = agents[i % len(agents)]
        await clients[agent].post(
            f"/me/calls/{calls[agent]}", {"operationName": "UpdateUserData", "userData": {"n": i}}
        )

    try:
        return await paced(send, rate, seconds)
    finally:
        for client in clients.values():
            await client.aclose()


async def paced_receiver(url: str, calls: dict[str, str], rate: float, seconds: float) -> list[float]:
    agents = list(calls)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:

        async def send(i: int) -> None:
            agent = agents[i % len(agents)]
            document = {"agent": agent, "action": "call.update_data",
                        "params": {"call_id": calls[agent], "user_data": {"n": i}}}  # fmt: skip
            sent = dict(headers, **{"Idempotency-Key": f"paced-{i}"})
            async with http.post(f"{url}/v1/commands", data=json.dumps(document), headers=sent) as response:
                await response.read()
                assert response.status in (200, 202), response.status

        return await paced(send, rate, seconds)


async def settled(url: str, ids: list[str], sample: int) -> dict[str, int]:
    """Final statuses of a sample of commands (waits, bounded, for them to leave 'accepted')."""
    counts: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession() as http:
        for command_id in ids[:: max(1, len(ids) // sample)][:sample]:
            while True:
                async with http.get(f"{url}/v1/commands/{command_id}", headers=headers) as response:
                    status = (await response.json())["status"]
                if status != "accepted" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            counts[status] = counts.get(status, 0) + 1
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=6000, help="commands per phase (default 6000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--agents", type=int, default=20, help="agents, one call each (default 20)")
    parser.add_argument("--store", choices=["memory", "redis"], default="redis", help="receiver state store")
    parser.add_argument("--no-idempotency", action="store_true", help="send no Idempotency-Key")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="paced latency runs: commands/s (default 100)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="paced latency runs: duration (default 5)")
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default="uvloop", help="the receiver's event loop"
    )
    parser.add_argument(
        "--profile-receiver",
        metavar="FILE",
        help="cProfile the receiver (every thread) into FILE (from the repository)",
    )
    args = parser.parse_args()

    sim_port, receiver_port = free_port(), free_port()
    sim_url, receiver_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{receiver_port}"
    agents = [f"agent{i:04d}" for i in range(1, args.agents + 1)]
    processes: list[subprocess.Popen[bytes] | None] = []
    workdir = tempfile.TemporaryDirectory(prefix="gwsb-bench-")
    try:
        redis_url = "redis://127.0.0.1:1/0"
        if args.store == "redis":
            binary = shutil.which("redis-server")
            if binary is None:
                raise SystemExit("redis-server not found (use --store memory)")
            redis_port = free_port()
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            processes.append(start([binary, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                    "--appendonly", "no", "--dir", workdir.name, "--loglevel", "warning"],
                                   f"127.0.0.1:{redis_port}"))  # fmt: skip
        python = sys.executable
        simulate = ["-m", "bridge.cli", "simulate", "--log-level", "WARNING", "--no-csrf"]
        simulate += ["--port", str(sim_port), "--agents", str(args.agents)]
        simulator = start([python, *simulate], sim_url)
        processes.append(simulator)
        config = Path(workdir.name) / "bridge.toml"
        write_config(config, sim_url, receiver_port, agents, args.store, redis_url)
        receiver_argv = ["-m", "bridge.cli", "receiver", "--log-level", "WARNING", "--config", str(config)]
        if args.profile_receiver:  # cProfile of every thread, written when it stops (a path from ROOT)
            receiver_argv[:0] = [str(ROOT / "bench" / "profile_threads.py"), args.profile_receiver]
        receiver = start([python, *receiver_argv, "--loop", args.loop], receiver_url)
        processes.append(receiver)
        log(f"simulator {sim_url}, receiver {receiver_url} ({args.store} store)")
        log(f"preparing {args.agents} established calls")
        calls = await prepare_calls(sim_url, agents)

        warm = min(500, args.commands)
        await run_receiver(
            receiver_url, calls, warm, args.concurrency, False
        )  # listeners up, sessions logged in
        log(f"direct: {args.commands} UpdateUserData at concurrency {args.concurrency}")
        sim_cpu, receiver_cpu = cpu_seconds(simulator), cpu_seconds(receiver)
        direct_elapsed, direct = await run_direct(sim_url, calls, args.commands, args.concurrency)
        sim_cpu_direct = cpu_seconds(simulator) - sim_cpu
        # Meanwhile the receiver's outcome listeners (still open after the warm-up) get one
        # AttachedDataChanged per direct request, and nothing else: the CometD share of a command.
        receiver_cpu_listening = cpu_seconds(receiver) - receiver_cpu
        log(f"receiver: {args.commands} call.update_data commands")
        sim_cpu, receiver_cpu = cpu_seconds(simulator), cpu_seconds(receiver)
        elapsed, through, ids, errors = await run_receiver(
            receiver_url, calls, args.commands, args.concurrency, not args.no_idempotency
        )
        sim_cpu_receiver = cpu_seconds(simulator) - sim_cpu
        receiver_cpu = cpu_seconds(receiver) - receiver_cpu
        outcomes = await settled(receiver_url, ids, 200)
        log(f"paced: {args.rate:g}/s for {args.seconds:g} s, direct then through the receiver")
        paced_d = await paced_direct(sim_url, calls, args.rate, args.seconds)
        paced_r = await paced_receiver(receiver_url, calls, args.rate, args.seconds)
        ms = 1000.0
        result: dict[str, Any] = {
            "benchmark": "commands",
            "commands": args.commands,
            "concurrency": args.concurrency,
            "agents": args.agents,
            "store": args.store,
            "idempotency": not args.no_idempotency,
            "loop": args.loop,
            "commands_per_s": round(args.commands / elapsed, 1),
            "direct_per_s": round(args.commands / direct_elapsed, 1),
            "receiver_p50_ms": round(percentile(through, 0.50) * ms, 2),
            "receiver_p99_ms": round(percentile(through, 0.99) * ms, 2),
            "direct_p50_ms": round(percentile(direct, 0.50) * ms, 2),
            "direct_p99_ms": round(percentile(direct, 0.99) * ms, 2),
            "saturated_overhead_p50_ms": round(
                (percentile(through, 0.50) - percentile(direct, 0.50)) * ms, 2
            ),
            "saturated_overhead_p99_ms": round(
                (percentile(through, 0.99) - percentile(direct, 0.99)) * ms, 2
            ),
            "paced_rate_per_s": args.rate,
            "paced_direct_p50_ms": round(percentile(paced_d, 0.50) * ms, 2),
            "paced_direct_p99_ms": round(percentile(paced_d, 0.99) * ms, 2),
            "paced_receiver_p50_ms": round(percentile(paced_r, 0.50) * ms, 2),
            "paced_receiver_p99_ms": round(percentile(paced_r, 0.99) * ms, 2),
            "overhead_p50_ms": round((percentile(paced_r, 0.50) - percentile(paced_d, 0.50)) * ms, 2),
            "overhead_p99_ms": round((percentile(paced_r, 0.99) - percentile(paced_d, 0.99)) * ms, 2),
            "mean_overhead_ms": round((statistics.fmean(paced_r) - statistics.fmean(paced_d)) * ms, 2),
            "receiver_cpu_ms_per_command": round(receiver_cpu / args.commands * ms, 3),
            "receiver_cpu_ms_per_notification": round(receiver_cpu_listening / args.commands * ms, 3),
            "simulator_cpu_ms_per_command_direct": round(sim_cpu_direct / args.commands * ms, 3),
            "simulator_cpu_ms_per_command_via_receiver": round(sim_cpu_receiver / args.commands * ms, 3),
            "errors": errors,
            "sampled_outcomes": outcomes,
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result), flush=True)
    finally:
        for process in reversed(processes):
            with contextlib.suppress(Exception):
                stop(process)
        workdir.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
