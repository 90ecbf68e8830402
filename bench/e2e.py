"""The whole pipeline under load: simulator → subscriber → Redis/Celery → workers → a verifying sink.

Every part is its own process on loopback, sharing this machine's cores: a private
``redis-server``, the GWS simulator (``--serve-simulator``: the real simulator, stamping the
wall-clock time of every call notification it publishes), ``gws-bridge subscriber`` holding
``--agents`` agents, ``--workers`` ``gws-bridge worker`` processes, and a sink
(``--serve-sink``) that verifies every Standard Webhooks signature with the reference
library and records each arrival. The simulator's ``/sim/load`` drives ``--rate`` calls/s
for ``--seconds`` s, four notifications (so four events) per call.

Then, in the same run, plain aiohttp POSTs of an event-sized signed body to the same sink
(one session, 64 in flight) give the raw HTTP limit, and the ratio of the two.

Latency is simulator publish (just before the notification goes to the CometD client) →
sink receipt, both ``time.time()`` on this machine, matched by call id and sequence (the
n-th notification of a call is the event with ``sequence`` n). One JSON line on stdout;
progress on stderr.

    .venv/bin/python bench/e2e.py [--agents 20] [--rate 250] [--seconds 20] [--workers 2] [--ordered]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.demo.stack import free_port  # noqa: E402
from bridge.processes.supervisor import ChildProcess, ChildSpec, bridge_command  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SELF = Path(__file__).resolve()


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- the stamping simulator (child process) -------------------------------------------------------


def serve_simulator(port: int, agents: int) -> None:
    from simulator.app import Simulator, SimulatorConfig, create_app

    class StampedSimulator(Simulator):
        """Records when each call notification is published: ``{"<call id>:<n>": time}``."""

        stamps: dict[str, float]
        counts: Counter[str]

        def publish(self, channel: str, data: dict[str, Any], user: str | None) -> int:
            call = data.get("call") if isinstance(data, dict) else None
            if isinstance(call, dict) and call.get("id"):
                call_id = str(call["id"])
                self.counts[call_id] += 1
                self.stamps[f"{call_id}:{self.counts[call_id]}"] = time.time()
            return super().publish(channel, data, user)

    config = SimulatorConfig(host="127.0.0.1", port=port, agents=agents, released_retention=5.0)
    sim = StampedSimulator(config)
    sim.stamps, sim.counts = {}, Counter()
    app = create_app(config, sim)

    async def stamps(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(sim.stamps), content_type="application/json")

    app.router.add_get("/bench/stamps", stamps)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the verifying sink (child process) -----------------------------------------------------------


def serve_sink(port: int, secret: str) -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    verifier = Webhook(secret)
    arrivals: list[tuple[str, str, int, float, float]] = []
    raw = [0]
    bad = [0]

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        at = time.time()
        try:
            verifier.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            bad[0] += 1
            return web.Response(status=401)
        if request.path == "/raw":
            raw[0] += 1
        else:
            event = orjson.loads(body)
            made = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
            sequence = int(event["sequence"])  # 20 zero-padded digits on the wire
            arrivals.append((request.headers["webhook-id"], event["subject"], sequence, at, made))
        return web.Response(status=204)

    async def stats(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({"arrivals": arrivals, "raw": raw[0], "bad": bad[0]}))

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- measuring --------------------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float | None:
    return round(values[int(q * (len(values) - 1))] * 1000, 1) if values else None


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """(user+system CPU seconds, RSS in MB) of ``pid``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return cpu, rss // 1024


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as reply:
        return orjson.loads(await reply.read())


async def wait_for(what: str, check: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if await check():
                return
        except (aiohttp.ClientError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def raw_limit(url: str, secret: str, body: bytes, seconds: float, in_flight: int) -> float:
    """Signed POSTs/s of ``body`` to ``url`` from one aiohttp session, ``in_flight`` at once."""
    from bridge.config.delivery import DestinationConfig
    from connectors.webhook import WebhookConnector

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        connector = WebhookConnector(
            DestinationConfig(name="raw", kind="webhook", url=url, secrets=[secret]), session=http
        )
        sent = 0
        stop_at = time.monotonic() + seconds

        async def pump() -> None:
            nonlocal sent
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                await connector.send_json(f"raw-{id(asyncio.current_task())}-{n}", body)
                sent += 1

        started = time.monotonic()
        await asyncio.gather(*(pump() for _ in range(in_flight)))
        return sent / (time.monotonic() - started)


FAULTS: Counter[str] = Counter()
RETIRED: list[ChildProcess] = []  # killed workers, replaced in `processes`


async def inject_faults(
    args: argparse.Namespace,
    http: aiohttp.ClientSession,
    sim_url: str,
    processes: dict[str, ChildProcess],
    start: Any,
    config: Path,
) -> None:
    """While the load runs: SIGKILL a worker (a new one starts) / drop every CometD client, periodically."""
    loop = asyncio.get_running_loop()
    next_kill = loop.time() + (args.kill_worker_every or float("inf"))
    next_drop = loop.time() + (args.drop_cometd_every or float("inf"))
    while True:
        await asyncio.sleep(max(0.05, min(next_kill, next_drop) - loop.time()))
        now = loop.time()
        if now >= next_kill:
            victim = f"worker-{FAULTS['worker_kills'] % args.workers + 1}"
            processes[victim].stopping = True
            processes[victim].popen.kill()
            RETIRED.append(processes[victim])
            FAULTS["worker_kills"] += 1
            worker = [
                "--config",
                str(config),
                "--log-level",
                "WARNING",
                "--concurrency",
                str(args.concurrency),
            ]
            start(victim, bridge_command("worker", *worker))
            next_kill = now + args.kill_worker_every
        if now >= next_drop:
            async with http.post(f"{sim_url}/sim/disconnect") as reply:
                await reply.read()
            FAULTS["cometd_drops"] += 1
            next_drop = now + args.drop_cometd_every


def write_config(path: Path, args: argparse.Namespace, redis_url: str, sim_url: str, sink_url: str) -> None:
    agents = "".join(
        f'\n[[agents]]\nusername = "agent{n:04d}"\npassword = "password"\n' for n in range(1, args.agents + 1)
    )
    path.write_text(
        f'redis_url = "{redis_url}"\n'
        f'[gws]\nbase_url = "{sim_url}"\n'
        f"[delivery]\nbatch_size = {args.batch_size}\n"
        # with worker kills: a dead worker's tasks come back after the visibility timeout
        + ("task_deadline = 15.0\nvisibility_timeout = 25.0\n" if args.kill_worker_every else "")
        + f'[[destinations]]\nname = "crm"\nkind = "webhook"\nurl = "{sink_url}"\n'
        'secrets = ["env:BENCH_SECRET"]\n'
        f"ordered = {'true' if args.ordered else 'false'}\nmax_in_flight = 64\n"
        f'[[routes]]\nevents = ["call.*"]\ndestinations = ["crm"]\n{agents}',
        encoding="utf-8",
    )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="gwsb-bench-e2e-"))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    redis_port, sim_port, sink_port = free_port(), free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    sim_url, sink_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{sink_port}"
    me = [sys.executable, str(SELF)]
    env = {"BENCH_SECRET": secret}
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("bench: redis-server is not installed")
    processes: dict[str, ChildProcess] = {}

    def start(name: str, argv: list[str]) -> None:
        processes[name] = ChildProcess.start(ChildSpec(name, argv, env, workdir / f"{name}.log"))

    try:
        start("redis", [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(workdir)])  # fmt: skip
        start("simulator", [*me, "--serve-simulator", str(sim_port), "--agents", str(args.agents)])
        start("sink", [*me, "--serve-sink", str(sink_port), secret])
        config = workdir / "bridge.toml"
        write_config(config, args, redis_url, sim_url, f"{sink_url}/hooks")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

            async def up(url: str) -> bool:
                async with http.get(url) as reply:
                    return reply.status == 200

            await wait_for("the simulator", lambda: up(f"{sim_url}/sim/status"), 30)
            await wait_for("the sink", lambda: up(f"{sink_url}/stats"), 30)
            for n in range(1, args.workers + 1):
                worker = [
                    "--config",
                    str(config),
                    "--log-level",
                    "WARNING",
                    "--concurrency",
                    str(args.concurrency),
                ]
                start(f"worker-{n}", bridge_command("worker", *worker))
            subscriber = ["--config", str(config), "--log-level", "WARNING", "--status-interval", "0"]
            command = bridge_command("subscriber", *subscriber)
            if args.profile_subscriber:  # cProfile of its main thread (the event loop), written at exit
                command[1:1] = ["-m", "cProfile", "-o", args.profile_subscriber]
            start("subscriber", command)

            async def connected() -> bool:
                status = await get_json(http, f"{sim_url}/sim/status")
                return int(status["cometdClients"]) >= args.agents

            await wait_for(f"{args.agents} CometD sessions", connected, 60)
            await asyncio.sleep(3.0)  # workers reach BRPOP; initial recovery events drain
            log(f"pipeline up; load: {args.agents} agents, {args.rate} calls/s for {args.seconds} s")
            before = {name: (p.pid, *cpu_and_rss(p.pid)) for name, p in processes.items()}
            started = time.time()
            load = {"agents": args.agents, "calls_per_second": args.rate, "seconds": args.seconds}
            async with http.post(f"{sim_url}/sim/load", json=load) as reply:
                load_id = (await reply.json())["id"]
            faults = asyncio.create_task(inject_faults(args, http, sim_url, processes, start, config))
            while True:
                await asyncio.sleep(0.5)
                progress = await get_json(http, f"{sim_url}/sim/load/{load_id}")
                if not progress["running"]:
                    break
            faults.cancel()
            await asyncio.gather(faults, return_exceptions=True)
            expected = 4 * int(progress["callsCompleted"])
            # Wait for the tail: until all expected events arrived or nothing new for a while (longer
            # with worker kills: their tasks return after the visibility timeout, 25 s, + a 6 s sweep).
            idle_limit = 40.0 if args.kill_worker_every else 10.0
            last, last_change = -1, time.monotonic()
            while True:
                stats = await get_json(http, f"{sink_url}/stats")
                # only the load's call events count: start-up state events would end the wait early
                distinct = len({(a[1], a[2]) for a in stats["arrivals"] if a[1].startswith("call/")})
                if distinct >= expected:
                    break
                if distinct != last:
                    last, last_change = distinct, time.monotonic()
                elif time.monotonic() - last_change > idle_limit:
                    break
                await asyncio.sleep(0.3)
            after = {name: cpu_and_rss(p.pid) for name, p in processes.items()}
            stamps: dict[str, float] = await get_json(http, f"{sim_url}/bench/stamps")
        arrivals = stats["arrivals"]
        first: dict[str, tuple[str, int, float, float]] = {}
        for webhook_id, subject, sequence, at, made in arrivals:
            first.setdefault(webhook_id, (subject, sequence, at, made))
        # Match deliveries to GWS notifications per call by order: the k-th event of a call (by its
        # sequence) is the call's k-th notification. Sequences are only monotonic, not 1, 2, 3 …
        # (a state reload starts a new block), so they cannot be compared with the stamps directly.
        delivered_by_call: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
        for subject, sequence, at, made in first.values():
            if subject.startswith("call/"):
                delivered_by_call[subject[5:]].append((sequence, made, at))
        matched: list[tuple[float, float, float]] = []
        delivered_keys: set[str] = set()
        for call_id, deliveries in delivered_by_call.items():
            for ordinal, (_, made, at) in enumerate(sorted(deliveries), start=1):
                key = f"{call_id}:{ordinal}"
                if key in stamps:
                    matched.append((stamps[key], made, at))
                    delivered_keys.add(key)
        missing = sorted(key for key in stamps if key not in delivered_keys)
        latencies = sorted(at - published for published, _, at in matched)
        to_bridge = sorted(made - published for published, made, _ in matched)
        window = max(item[2] for item in first.values()) - started if first else 1.0
        log("raw HTTP limit: plain signed aiohttp POSTs to the same sink")
        body = orjson.dumps({"specversion": "1.0", "data": {"pad": "x" * 900}})
        raw_rate = await raw_limit(f"{sink_url}/raw", secret, body, args.raw_seconds, 64)
        elapsed = window
        # CPU over the load and its tail (a worker restarted by --kill-worker-every: its own CPU only)
        used = {
            name: after[name][0] - (before[name][1] if before[name][0] == processes[name].pid else 0.0)
            for name in processes
        }
        calls_delivered = len(delivered_keys & stamps.keys())
        delivered_rate = len(first) / elapsed
        pct = [_quantile(latencies, q) for q in (0.5, 0.99)]
        bridge_pct = [_quantile(to_bridge, q) for q in (0.5, 0.99)]
        return {
            "bench": "e2e",
            "agents": args.agents,
            "calls_per_second": args.rate,
            "seconds": args.seconds,
            "workers": args.workers,
            "ordered": args.ordered,
            "offered_events_per_s": round(4 * args.rate, 1),
            "events_expected": expected,
            "events_delivered": len(first),
            "call_events_delivered": calls_delivered,
            # every call notification GWS published (stamped) that never reached the sink
            "events_lost": len(missing),
            "events_duplicated": len(arrivals) - len(first),
            "bad_signatures": stats["bad"],
            "faults": FAULTS,
            "missing_sample": missing[:5],  # "<call id>:<sequence>" published by GWS, never delivered
            "delivered_per_s": round(delivered_rate, 1),
            "delivery_window_s": round(window, 2),
            "latency_p50_ms": pct[0],
            "latency_p99_ms": pct[1],
            # the part of it from simulator publish to the subscriber normalizing (event `time`)
            "to_subscriber_p50_ms": bridge_pct[0],
            "to_subscriber_p99_ms": bridge_pct[1],
            "raw_http_posts_per_s": round(raw_rate, 1),
            "ratio": round(delivered_rate / raw_rate, 3) if raw_rate else None,
            "processes": {
                name: {
                    "cpu_s": round(cpu, 2),
                    "cpu_pct": round(100 * cpu / elapsed, 1),
                    "rss_mb": after[name][1],
                }
                for name, cpu in used.items()
            },
            "cores": os.cpu_count(),
        }
    finally:
        for process in [*processes.values(), *RETIRED]:
            process.stopping = True
            process.popen.terminate()
        for process in [*processes.values(), *RETIRED]:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
            process.close_log()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--rate", type=float, default=250.0, help="calls per second (4 events each)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--ordered", action="store_true", help="ordered (FIFO per call) destination")
    parser.add_argument("--raw-seconds", type=float, default=5.0)
    parser.add_argument(
        "--kill-worker-every", type=float, metavar="S", help="soak: SIGKILL a worker every S s (restarted)"
    )
    parser.add_argument(
        "--drop-cometd-every", type=float, metavar="S", help="soak: /sim/disconnect every S s"
    )
    parser.add_argument("--profile-subscriber", metavar="FILE", help="cProfile the subscriber into FILE")
    parser.add_argument("--serve-simulator", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-sink", nargs=2, metavar=("PORT", "SECRET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_simulator:
        serve_simulator(args.serve_simulator, args.agents)
        return
    if args.serve_sink:
        serve_sink(int(args.serve_sink[0]), args.serve_sink[1])
        return
    if args.profile_subscriber:
        args.profile_subscriber = os.path.abspath(args.profile_subscriber)
    result = asyncio.run(bench(args))
    print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
