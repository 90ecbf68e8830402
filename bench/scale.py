"""10,000 agents on one simulator, shared by 3 subscriber processes through leases.

Starts a private ``redis-server``, ``gws-bridge simulate --agents N`` and ``--subscribers``
``gws-bridge subscriber`` processes (``--print-events`` to /dev/null: this measures holding
sessions, not delivery; ``bench/e2e.py`` measures delivery), then reports:

* ``connect_s``: from starting the subscribers until every agent is connected (subscribed and
  caught up) — the sum of their ``gwsb_subscriber_agents_connected`` gauges, which they
  refresh every 2 s, so figures are good to about 2 s;
* ``rss_mb``: resident memory of each subscriber and of the simulator once all are connected,
  and ``idle_cpu_pct`` of each over ``--idle-seconds`` (sessions sitting in long-polls);
* ``takeover_s``: after one subscriber is SIGKILLed, until the survivors hold and connect all
  of its agents (lease TTL + log-ins at the survivors' login rate + recovery);
* ``logins``: what GWS saw (the simulator's log-in timestamps): how many and the highest
  count in any one second, at start-up and during the takeover.

Prints one JSON line on stdout; progress goes to stderr. Example:

    .venv/bin/python bench/scale.py                  # 10,000 agents, 3 subscribers
    .venv/bin/python bench/scale.py --agents 2000 --lease-ttl 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from bisect import bisect_right
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bridge.demo.stack import free_port
from bridge.processes.supervisor import ChildProcess, ChildSpec, bridge_command


def log(message: str) -> None:
    print(f"[bench/scale] {message}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_per_second(times: list[float]) -> int:
    """The most log-ins within any one-second window."""
    ordered = sorted(times)
    return max((bisect_right(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


def write_config(path: Path, args: argparse.Namespace, redis_url: str, gws_url: str) -> None:
    lines = [
        f'redis_url = "{redis_url}"',
        "[gws]",
        f'base_url = "{gws_url}"',
        "request_timeout = 30.0",
        "[subscriber]",
        f"lease_ttl = {args.lease_ttl}",
        f"login_rate = {args.login_rate}",
        f"login_burst = {args.login_burst}",
        "status_interval = 0",
    ]
    for n in range(1, args.agents + 1):
        lines += ["[[agents]]", f'username = "agent{n:04d}"', 'password = "password"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Scraper:
    """Reads each subscriber's ``gwsb_subscriber_agents_connected`` gauge."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def connected(self, port: int) -> int:
        try:
            async with self.http.get(f"http://127.0.0.1:{port}/metrics") as reply:
                text = await reply.text()
        except aiohttp.ClientError:
            return 0
        for line in text.splitlines():
            if line.startswith("gwsb_subscriber_agents_connected "):
                return int(float(line.split()[1]))
        return 0

    async def total(self, ports: list[int]) -> int:
        return sum(await asyncio.gather(*(self.connected(port) for port in ports)))


async def wait_until_connected(
    scraper: Scraper, ports: list[int], total: int, within: float, what: str
) -> float:
    started = time.monotonic()
    last = -1
    while True:
        now = await scraper.total(ports)
        if now != last:
            log(f"{what}: {now}/{total} connected after {time.monotonic() - started:.1f} s")
            last = now
        if now >= total:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise SystemExit(f"bench: {what}: only {now}/{total} connected after {within} s")
        await asyncio.sleep(0.25)


async def logins(http: aiohttp.ClientSession, gws_url: str, since: float) -> list[float]:
    async with http.get(f"{gws_url}/sim/logins") as reply:
        body = orjson.loads(await reply.read())
    return [item["time"] for item in body["logins"] if item["time"] >= since]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="gwsb-bench-scale-"))
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("bench: redis-server is not installed")
    redis_port, sim_port = free_port(), free_port()
    redis_url, gws_url = f"redis://127.0.0.1:{redis_port}/0", f"http://127.0.0.1:{sim_port}"
    metrics_ports = [free_port() for _ in range(args.subscribers)]
    config = workdir / "bridge.toml"
    write_config(config, args, redis_url, gws_url)
    children: dict[str, ChildProcess] = {}

    def start(name: str, argv: list[str]) -> ChildProcess:
        children[name] = ChildProcess.start(ChildSpec(name, argv, log=workdir / f"{name}.log"))
        return children[name]

    try:
        start("redis", [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(workdir)])  # fmt: skip
        sim = start("simulator", bridge_command(
            "simulate", "--log-level", "WARNING", "--port", str(sim_port), "--agents", str(args.agents)
        ))  # fmt: skip
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"{gws_url}/sim/status") as reply:
                        if reply.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("bench: the simulator did not start")
                await asyncio.sleep(0.2)
            scraper = Scraper(http)
            started_wall = time.time()
            subscribers = [
                start(f"subscriber-{n}", bridge_command(
                    "subscriber", "--config", str(config), "--print-events", "--log-level", "WARNING",
                    "--metrics-port", str(port),
                ))
                for n, port in enumerate(metrics_ports, 1)
            ]  # fmt: skip
            connect_s = await wait_until_connected(scraper, metrics_ports, args.agents, args.within, "start")
            start_logins = await logins(http, gws_url, started_wall)
            watched = {child.name: child.pid for child in [*subscribers, sim]}
            cpu_before = {name: cpu_seconds(pid) for name, pid in watched.items()}
            await asyncio.sleep(args.idle_seconds)
            idle_cpu = {
                name: round(100 * (cpu_seconds(pid) - cpu_before[name]) / args.idle_seconds, 1)
                for name, pid in watched.items()
            }
            rss = {name: rss_mb(pid) for name, pid in watched.items()}
            per_sub = [await scraper.connected(port) for port in metrics_ports]
            log(f"held per subscriber {per_sub}, RSS {rss}, idle CPU % {idle_cpu}")

            victim = subscribers[0]
            killed_wall = time.time()
            victim.signal(signal.SIGKILL)
            victim.stopping = True
            takeover_s = await wait_until_connected(
                scraper, metrics_ports[1:], args.agents, args.within, "takeover"
            )
            takeover_logins = await logins(http, gws_url, killed_wall)
    finally:
        for child in children.values():
            child.stopping = True
            child.signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.popen.wait(timeout=30)
            except Exception:
                child.signal(signal.SIGKILL)
            child.close_log()
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "bench": "scale",
        "agents": args.agents,
        "subscribers": args.subscribers,
        "lease_ttl": args.lease_ttl,
        "login_rate_per_subscriber": args.login_rate,
        "connect_s": round(connect_s, 1),
        "held_per_subscriber": per_sub,
        "rss_mb": rss,
        "idle_cpu_pct": idle_cpu,
        "takeover_s": round(takeover_s, 1),
        "orphaned": per_sub[0],
        "logins_start": len(start_logins),
        "logins_start_peak_per_s": peak_per_second(start_logins),
        "logins_takeover": len(takeover_logins),
        "logins_takeover_peak_per_s": peak_per_second(takeover_logins),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--lease-ttl", type=float, default=15.0, help="[subscriber] lease_ttl (default 15)")
    parser.add_argument(
        "--login-rate", type=float, default=50.0, help="log-ins/s per subscriber (default 50)"
    )
    parser.add_argument("--login-burst", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU sample (default 10)")
    parser.add_argument("--within", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (printed)")
    args = parser.parse_args()
    if args.subscribers < 2:
        parser.error("--subscribers must be >= 2 (one is killed)")
    print(orjson.dumps(asyncio.run(bench(args))).decode(), flush=True)


if __name__ == "__main__":
    main()
