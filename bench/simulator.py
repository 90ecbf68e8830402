"""How many notifications per second the simulator delivers to 200 connected CometD clients.

Starts ``gws-bridge simulate --agents N`` as a subprocess, logs every agent in over REST
(Basic auth, then the ``JSESSIONID`` cookie and CSRF token), connects one long-polling CometD
client per agent (a lean raw Bayeux client, so the measuring side keeps up on a small machine),
subscribes ``/v2/me/*`` and ``/notifications/services``, drives scripted call flows with
``POST /sim/load`` and meanwhile sends probe calls (``POST /sim/calls`` with the send time in
their userData) to measure request-to-receipt latency of the Ringing notification under load.

Prints one JSON line on stdout (progress goes to stderr):
notifications delivered per second to the clients, probe latency p50/p99 in ms, and the CPU
used by the simulator process (percent of one core) over the measured window.

    .venv/bin/python bench/simulator.py [--agents 200] [--calls-per-second 250] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bridge.demo.stack import free_port

CHANNELS = ("/v2/me/*", "/notifications/services")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Counters:
    received: int = 0
    rehandshakes: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    probe_calls: dict[str, str] = field(default_factory=dict)  # probe id -> agent


@dataclass
class Agent:
    name: str
    headers: dict[str, str]


class LeanBayeuxClient:
    """Handshake, subscribe with the first connect, then long-poll until cancelled."""

    def __init__(self, http: aiohttp.ClientSession, url: str, agent: Agent, counters: Counters) -> None:
        self.http = http
        self.url = url
        self.agent = agent
        self.counters = counters
        self.client_id = ""
        self.connected = asyncio.Event()

    async def _post(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        async with self.http.post(
            self.url,
            data=orjson.dumps(messages),
            headers={**self.agent.headers, "Content-Type": "application/json"},
        ) as reply:
            reply.raise_for_status()
            return list(orjson.loads(await reply.read()))

    async def _handshake(self) -> list[dict[str, Any]]:
        [reply] = await self._post(
            [{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]
        )
        if not reply.get("successful"):
            raise RuntimeError(f"handshake refused for {self.agent.name}: {reply}")
        self.client_id = reply["clientId"]
        subscribe = [
            {"channel": "/meta/subscribe", "clientId": self.client_id, "subscription": channel}
            for channel in CHANNELS
        ]
        return [self._connect_message(), *subscribe]

    def _connect_message(self) -> dict[str, Any]:
        return {"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling"}

    async def run(self) -> None:
        payload = await self._handshake()
        while True:
            try:
                replies = await self._post(payload)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.counters.errors += 1
                log(f"{self.agent.name}: {exc!r}; retrying")
                await asyncio.sleep(0.5)
                continue
            now = time.time()
            payload = [self._connect_message()]
            for message in replies:
                channel = message.get("channel", "")
                if channel == "/meta/connect":
                    if message.get("successful"):
                        self.connected.set()
                    elif message.get("advice", {}).get("reconnect") == "handshake":
                        self.counters.rehandshakes += 1
                        payload = await self._handshake()
                elif not channel.startswith("/meta/"):
                    self._on_event(message, now)

    def _on_event(self, message: dict[str, Any], now: float) -> None:
        self.counters.received += 1
        data = message.get("data") or {}
        call = data.get("call") if isinstance(data, dict) else None
        if isinstance(call, dict) and call.get("state") == "Ringing":
            sent = (call.get("userData") or {}).get("BenchSentAt")
            if sent is not None:
                self.counters.latencies.append((now - float(sent)) * 1000)


async def login(http: aiohttp.ClientSession, base_url: str, name: str) -> Agent:
    """Basic auth once, then the session cookie and CSRF token, as a GWS client does."""
    basic = {"Authorization": aiohttp.encode_basic_auth(name, "password")}
    async with http.get(f"{base_url}/api/v2/me", headers=basic) as reply:
        reply.raise_for_status()
        cookie = reply.cookies.get("JSESSIONID")
        headers = {}
        if cookie is not None:
            headers["Cookie"] = f"JSESSIONID={cookie.value}"
        else:
            headers.update(basic)
        token_header = reply.headers.get("X-CSRF-HEADER")
        if token_header:
            headers[token_header] = reply.headers["X-CSRF-TOKEN"]
    return Agent(name, headers)


async def wait_until_up(http: aiohttp.ClientSession, base_url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}")
        try:
            async with http.get(f"{base_url}/api/v2/diagnostics/version") as reply:
                if reply.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("simulator did not start within 20 s")


async def probe_calls(
    http: aiohttp.ClientSession, base_url: str, agents: list[Agent], counters: Counters, period: float
) -> None:
    """A Ringing probe call every ``period`` seconds, released a little later."""
    index = 0
    releases: set[asyncio.Task[None]] = set()
    while True:
        agent = agents[index % len(agents)]
        index += 1
        body = {"to": agent.name, "from": "5550199", "userData": {"BenchSentAt": f"{time.time():.6f}"}}
        try:
            async with http.post(f"{base_url}/sim/calls", json=body) as reply:
                call = await reply.json()
            call_id = call.get("id") or call.get("callId")
            if call_id:
                releases.add(asyncio.create_task(_release(http, base_url, str(call_id), after=0.5)))
                releases.difference_update([task for task in releases if task.done()])
        except aiohttp.ClientError as exc:
            log(f"probe failed: {exc!r}")
        await asyncio.sleep(period)


async def _release(http: aiohttp.ClientSession, base_url: str, call_id: str, *, after: float) -> None:
    await asyncio.sleep(after)
    try:
        async with http.post(f"{base_url}/sim/calls/{call_id}/release", json={}) as reply:
            await reply.read()
    except aiohttp.ClientError:
        pass


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


async def run(args: argparse.Namespace, process: subprocess.Popen[bytes], base_url: str) -> dict[str, Any]:
    """Connect the clients, drive the load and measure; the simulator is already starting."""
    counters = Counters()
    tasks: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)
    http = aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=60)
    )
    try:
        await wait_until_up(http, base_url, process)
        agents = await asyncio.gather(
            *(login(http, base_url, f"agent{n:04d}") for n in range(1, args.agents + 1))
        )
        url = f"{base_url}/api/v2/notifications"
        clients = [LeanBayeuxClient(http, url, agent, counters) for agent in agents]
        tasks = [asyncio.create_task(client.run()) for client in clients]
        await asyncio.wait_for(asyncio.gather(*(client.connected.wait() for client in clients)), 30)
        await asyncio.sleep(0.5)  # let every client's subscribe land and its next connect be held
        log(f"{len(clients)} CometD clients connected; {args.calls_per_second} calls/s for {args.seconds}s")

        received_before = counters.received
        sim_cpu_before, own_cpu_before = process_cpu_seconds(process.pid), own_cpu_seconds()
        started = time.monotonic()
        load = {"agents": args.agents, "calls_per_second": args.calls_per_second, "seconds": args.seconds}
        async with http.post(f"{base_url}/sim/load", json=load) as reply:
            if reply.status >= 300:
                raise RuntimeError(f"/sim/load refused: {reply.status} {await reply.text()}")
            load_id = (await reply.json()).get("id")
        probes = asyncio.create_task(probe_calls(http, base_url, agents, counters, args.probe_period))
        await asyncio.sleep(args.seconds)
        probes.cancel()
        # Drain: until nothing new arrives for 1 s (the flows' answer/release steps come after).
        last, quiet_since = counters.received, time.monotonic()
        while time.monotonic() - quiet_since < 1.0 and time.monotonic() - started < args.seconds + 15:
            await asyncio.sleep(0.1)
            if counters.received != last:
                last, quiet_since = counters.received, time.monotonic()
        elapsed = quiet_since - started
        sim_cpu = process_cpu_seconds(process.pid) - sim_cpu_before
        own_cpu = own_cpu_seconds() - own_cpu_before
        received = counters.received - received_before
        load_report: dict[str, Any] = {}
        if load_id:
            async with http.get(f"{base_url}/sim/load/{load_id}") as reply:
                if reply.status == 200:
                    load_report = await reply.json()
        return {
            "bench": "simulator",
            "agents": args.agents,
            "cometd_clients": len(clients),
            "transport": "long-polling",
            "calls_per_second": args.calls_per_second,
            "seconds": round(elapsed, 2),
            "notifications_received": received,
            "notifications_per_second": round(received / elapsed, 1),
            "notifications_published": load_report.get("notifications"),
            "probe_latency_ms": {
                "measures": "POST /sim/calls sent -> Ringing notification received, under the load",
                "p50": percentile(counters.latencies, 0.5),
                "p99": percentile(counters.latencies, 0.99),
                "mean": round(statistics.fmean(counters.latencies), 2) if counters.latencies else None,
                "samples": len(counters.latencies),
            },
            "simulator_cpu_percent": round(100 * sim_cpu / elapsed, 1),
            "bench_client_cpu_percent": round(100 * own_cpu / elapsed, 1),
            "rehandshakes": counters.rehandshakes,
            "client_errors": counters.errors,
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=200, help="agents = CometD clients (default 200)")
    parser.add_argument(
        "--calls-per-second", type=float, default=250.0, help="scripted call flows per second (default 250)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load runs (default 20)")
    parser.add_argument("--probe-period", type=float, default=0.1, help="seconds between latency probes")
    args = parser.parse_args()
    port = free_port()
    command = [
        sys.executable, "-m", "bridge.cli", "simulate", "--log-level", "WARNING",
        "--host", "127.0.0.1", "--port", str(port), "--agents", str(args.agents),
    ]  # fmt: skip
    log(f"starting {' '.join(command[1:])}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        result = asyncio.run(run(args, process, f"http://127.0.0.1:{port}"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
