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

``--saturate`` offers more than the pipeline takes (``--rate`` 1500 calls/s, 6,000 events/s,
unless given) for ``--seconds``: ``delivered_per_s`` and the CPU figures count what reached
the sink while the load ran (the backlog is not waited for; ``events_lost`` is then null), and
the raw HTTP limit is measured before the load instead of after it. ``cpu_us_per_event`` is
each process's CPU divided by the events delivered; ``subscriber_cpu_us_per_event`` and
``worker_cpu_us_per_event`` (all workers together) are the figures issue #16 targets.

Latency is simulator publish (just before the notification goes to the CometD client) →
sink receipt, both ``time.time()`` on this machine, for every notification whose own event
arrived (matched per call and event type: the i-th data change of a call is its i-th
``call.data_changed``). With ``--drop-cometd-every`` some notifications are published while
no subscription exists (GWS replays nothing): they count as ``events_covered`` when another
event of the call carries their effect (see :func:`account_calls`), and as
``events_lost`` when nothing does. One JSON line on stdout; progress on stderr; ``--keep-logs``
keeps every process's log and the raw figures for a post-mortem.

    .venv/bin/python bench/e2e.py [--agents 20] [--rate 250] [--seconds 20] [--workers 2] [--ordered]
                                  [--recording on|off|compare]

``--recording compare`` runs the whole bench four times (console recording off, on, off, on) and
prints one line comparing throughput and worker CPU per delivered event.

``--tracing on`` turns ``[tracing]`` on in every bridge process, exporting over OTLP/HTTP to a
collector stand-in (``--serve-collector``: it decodes each export and counts the spans);
``--tracing both`` runs the pipeline twice, off then on, and adds the on/off ratios.
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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis
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


def serve_simulator(port: int, agents: int, trail_path: str | None) -> None:
    from simulator.app import Simulator, SimulatorConfig, create_app

    trail = open(trail_path, "ab", buffering=0) if trail_path else None

    class StampedSimulator(Simulator):
        """Records each call notification it publishes:
        ``{"<call id>:<n>": [time, notificationType, state, userData]}``."""

        stamps: dict[str, list[Any]]
        counts: Counter[str]

        def publish(self, channel: str, data: dict[str, Any], user: str | None) -> int:
            call = data.get("call") if isinstance(data, dict) else None
            stamp = None
            if isinstance(call, dict) and call.get("id"):
                call_id = str(call["id"])
                self.counts[call_id] += 1
                key = f"{call_id}:{self.counts[call_id]}"
                stamp = [time.time(), data.get("notificationType"), call.get("state"), call.get("userData")]
                self.stamps[key] = stamp
            clients = super().publish(channel, data, user)
            if stamp is not None and trail is not None:  # --keep-logs: which clients got it
                trail.write(orjson.dumps([stamp[0], key, user, *stamp[1:3], clients]) + b"\n")
            return clients

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
    # (webhook-id, subject, sequence, received, event time, type, data.state, data.recovered, user_data)
    arrivals: list[tuple[Any, ...]] = []
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
            data = event.get("data") or {}
            arrivals.append(
                (
                    request.headers["webhook-id"], event["subject"], sequence, at, made, event["type"],
                    data.get("state"), bool(data.get("recovered")), data.get("user_data"),
                )
            )  # fmt: skip
        return web.Response(status=204)

    async def stats(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({"arrivals": arrivals, "raw": raw[0], "bad": bad[0]}))

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the OTLP collector stand-in (child process) ----------------------------------------------------


def serve_collector(port: int) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    counts = {"exports": 0, "spans": 0}
    reply = ExportTraceServiceResponse().SerializeToString()

    async def export(request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest.FromString(await request.read())
        counts["exports"] += 1
        counts["spans"] += sum(
            len(scope.spans) for resource in message.resource_spans for scope in resource.scope_spans
        )
        return web.Response(body=reply, content_type="application/x-protobuf")

    async def stats(_: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(counts), content_type="application/json")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", export)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- measuring --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """The first arrival of one webhook-id at the sink."""

    subject: str
    sequence: int
    at: float  # received
    made: float  # the event's `time` (the subscriber normalized it)
    type: str
    state: str | None
    recovered: bool
    user_data: dict[str, Any] | None


@dataclass
class Account:
    matched: list[tuple[float, float, float]] = field(default_factory=list)  # (published, made, at)
    covered: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    without_released: int = 0
    released_not_last: int = 0


_RANK = {"Dialing": 1, "Ringing": 1, "Established": 2, "Held": 2, "Released": 3}


def _event_type(notification: str | None, state: str | None) -> str:
    if notification == "AttachedDataChanged":
        return "call.data_changed"
    return f"call.{(state or '').lower()}"


def _covers(event: Delivery, expected: str, state: str | None, user_data: dict[str, Any] | None) -> bool:
    """Does ``event`` carry the effect of a notification whose own event never came?"""
    if expected == "call.data_changed":  # the data change itself, with the data as it is now
        have = event.user_data or {}
        return event.type == expected and all(have.get(k) == v for k, v in (user_data or {}).items())
    return _RANK.get(event.state or "", 0) >= _RANK.get(state or "", 9)  # the state reached or passed


def account_calls(stamps: dict[str, list[Any]], deliveries: Any) -> Account:
    """Match GWS's call notifications with what the sink got, call by call.

    A notification is *delivered* when its own event arrived (the i-th notification of a kind
    — ringing, established, data change, released — is the call's i-th event of that type);
    *covered* when it did not, but another event of the call carries its effect: a state at or
    past the one it announced (``call.established`` for a lost ringing), or, for a data change,
    a ``call.data_changed`` with that data (usually derived by state recovery,
    ``data.recovered``); *lost* otherwise.
    """
    by_call: dict[str, list[Delivery]] = defaultdict(list)
    for item in deliveries:
        if item.subject.startswith("call/"):
            by_call[item.subject[5:]].append(item)
    notes: dict[str, list[tuple[int, list[Any]]]] = defaultdict(list)
    for key, stamp in stamps.items():
        call_id, ordinal = key.rsplit(":", 1)
        notes[call_id].append((int(ordinal), stamp))
    account = Account()
    for call_id, published in notes.items():
        events = sorted(by_call.get(call_id, []), key=lambda item: item.sequence)
        by_type: dict[str, list[Delivery]] = defaultdict(list)
        for event in events:
            by_type[event.type].append(event)
        taken: Counter[str] = Counter()
        for n, (at, notification, state, user_data) in sorted(published):
            expected = _event_type(notification, state)
            own = by_type.get(expected, [])
            if taken[expected] < len(own):
                event = own[taken[expected]]
                taken[expected] += 1
                account.matched.append((at, event.made, event.at))
            elif any(_covers(event, expected, state, user_data) for event in events):
                account.covered.append(f"{call_id}:{n}:{expected}")
            else:
                account.lost.append(f"{call_id}:{n}:{expected}")
        if "call.released" not in by_type:
            account.without_released += 1
        elif events[-1].type != "call.released":
            account.released_not_last += 1
    account.lost.sort()
    return account


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
FAULT_TIMES: list[tuple[float, str]] = []  # (time.time(), what): for --keep-logs
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
            FAULT_TIMES.append((time.time(), f"kill {victim}"))
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
            FAULT_TIMES.append((time.time(), "cometd_drop"))
            async with http.post(f"{sim_url}/sim/disconnect") as reply:
                await reply.read()
            FAULTS["cometd_drops"] += 1
            next_drop = now + args.drop_cometd_every


def profiled(command: list[str], out: str | None) -> list[str]:
    """``command`` (``python -m bridge.cli …``) under cProfile of every thread into ``out``, if set."""
    if not out:
        return command
    return [command[0], str(SELF.parent / "profile_threads.py"), out, *command[1:]]


def write_config(
    path: Path,
    args: argparse.Namespace,
    redis_url: str,
    sim_url: str,
    sink_url: str,
    collector: str = "",
    sentinel: str = "",
) -> None:
    agents = "".join(
        f'\n[[agents]]\nusername = "agent{n:04d}"\npassword = "password"\n' for n in range(1, args.agents + 1)
    )
    path.write_text(
        f'redis_url = "{redis_url}"\n'
        f'[gws]\nbase_url = "{sim_url}"\n'
        f"[console]\nrecord = {'true' if args.record else 'false'}\n"
        f"[delivery]\nbatch_size = {args.batch_size}\n"
        # with worker kills: a dead worker's tasks come back after the visibility timeout
        + ("task_deadline = 15.0\nvisibility_timeout = 25.0\n" if args.kill_worker_every else "")
        + f'[[destinations]]\nname = "crm"\nkind = "webhook"\nurl = "{sink_url}"\n'
        'secrets = ["env:BENCH_SECRET"]\n'
        f"ordered = {'true' if args.ordered else 'false'}\nmax_in_flight = 64\n"
        f'[[routes]]\nevents = ["call.*"]\ndestinations = ["crm"]\n{agents}'
        + (f'[tracing]\nenabled = true\nendpoint = "{collector}/v1/traces"\n' if collector else "")
        + sentinel,
        encoding="utf-8",
    )


def start_replica_and_sentinel(start: Any, binary: str, master_port: int, workdir: Path, wait: str) -> str:
    """A replica of the master and one sentinel; the ``[redis_sentinel]`` section (``wait_replicas``)."""
    replica_port, sentinel_port = free_port(), free_port()
    (workdir / "replica").mkdir()
    start("replica", [binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", str(workdir / "replica"), "--repl-diskless-sync-delay",
                      "0", "--replicaof", "127.0.0.1", str(master_port)])  # fmt: skip
    conf = workdir / "sentinel.conf"
    conf.write_text(f"sentinel monitor bench 127.0.0.1 {master_port} 1\n", encoding="utf-8")
    start("sentinel", [binary, str(conf), "--sentinel", "--port", str(sentinel_port), "--bind", "127.0.0.1"])
    deadline = time.monotonic() + 30
    while True:  # WAIT has nothing to wait for until the replica is in sync
        try:
            with redis.Redis(port=replica_port, socket_timeout=1) as replica:
                if replica.info("replication").get("master_link_status") == "up":
                    break
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("bench: the replica did not sync within 30 s")
        time.sleep(0.1)
    return (
        f'[redis_sentinel]\nsentinels = ["127.0.0.1:{sentinel_port}"]\nmaster_name = "bench"\n'
        f"wait_replicas = {wait}\n"
    )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="gwsb-bench-e2e-"))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    redis_port, sim_port, sink_port, collector_port = free_port(), free_port(), free_port(), free_port()
    collector_url = f"http://127.0.0.1:{collector_port}" if args.tracing == "on" else ""
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
        sentinel = ""
        if args.replica_wait != "off":
            sentinel = start_replica_and_sentinel(start, redis_binary, redis_port, workdir, args.replica_wait)
        simulator = [*me, "--serve-simulator", str(sim_port), "--agents", str(args.agents)]
        if args.keep_logs:
            simulator += ["--trail", str(workdir / "published.jsonl")]
        start("simulator", simulator)
        start("sink", [*me, "--serve-sink", str(sink_port), secret])
        if collector_url:
            start("collector", [*me, "--serve-collector", str(collector_port)])
        config = workdir / "bridge.toml"
        write_config(config, args, redis_url, sim_url, f"{sink_url}/hooks", collector_url, sentinel)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

            async def up(url: str) -> bool:
                async with http.get(url) as reply:
                    return reply.status == 200

            await wait_for("the simulator", lambda: up(f"{sim_url}/sim/status"), 30)
            await wait_for("the sink", lambda: up(f"{sink_url}/stats"), 30)
            if collector_url:
                await wait_for("the collector", lambda: up(f"{collector_url}/stats"), 30)
            for n in range(1, args.workers + 1):
                worker = [
                    "--config",
                    str(config),
                    "--log-level",
                    "WARNING",
                    "--concurrency",
                    str(args.concurrency),
                ]
                out = args.profile_worker if n == 1 else None
                start(f"worker-{n}", profiled(bridge_command("worker", *worker), out))
            level = "INFO" if args.keep_logs else "WARNING"
            subscriber = ["--config", str(config), "--log-level", level, "--status-interval", "0"]
            start("subscriber", profiled(bridge_command("subscriber", *subscriber), args.profile_subscriber))

            async def connected() -> bool:
                status = await get_json(http, f"{sim_url}/sim/status")
                return int(status["cometdClients"]) >= args.agents

            await wait_for(f"{args.agents} CometD sessions", connected, 60)
            await asyncio.sleep(3.0)  # workers reach BRPOP; initial recovery events drain
            log(f"pipeline up; load: {args.agents} agents, {args.rate} calls/s for {args.seconds} s")
            body = orjson.dumps({"specversion": "1.0", "data": {"pad": "x" * 900}})
            if args.saturate:  # before the load: its backlog would still be draining after it
                log("raw HTTP limit: plain signed aiohttp POSTs to the same sink")
                raw_rate = await raw_limit(f"{sink_url}/raw", secret, body, args.raw_seconds, 64)
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
            load_ended = time.time()
            if args.saturate:  # what got through while the load ran: no waiting for the backlog
                after = {name: cpu_and_rss(p.pid) for name, p in processes.items()}
            # Wait for the tail: until all expected events arrived or nothing new for a while (longer
            # with worker kills: their tasks return after the visibility timeout, 25 s, + a 6 s sweep).
            idle_limit = 40.0 if args.kill_worker_every else 10.0
            last, last_change = -1, time.monotonic()
            while not args.saturate:
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
            if args.saturate:
                stats = await get_json(http, f"{sink_url}/stats")
                stats["arrivals"] = [a for a in stats["arrivals"] if a[3] <= load_ended]
            else:
                after = {name: cpu_and_rss(p.pid) for name, p in processes.items()}
            stamps: dict[str, list[Any]] = await get_json(http, f"{sim_url}/bench/stamps")
            if args.keep_logs:
                (workdir / "arrivals.json").write_bytes(orjson.dumps(stats["arrivals"]))
                (workdir / "faults.json").write_bytes(orjson.dumps(FAULT_TIMES))
            if collector_url:
                await asyncio.sleep(6.0)  # the BatchSpanProcessor exports every 5 s
                exported = await get_json(http, f"{collector_url}/stats")
        arrivals = stats["arrivals"]
        first: dict[str, Delivery] = {}
        for webhook_id, subject, *rest in arrivals:
            first.setdefault(webhook_id, Delivery(subject, *rest))
        account = account_calls(stamps, first.values())
        matched = account.matched
        latencies = sorted(at - published for published, _, at in matched)
        to_bridge = sorted(made - published for published, made, _ in matched)
        if args.saturate:
            window = load_ended - started
        else:
            window = max(item.at for item in first.values()) - started if first else 1.0
        if not args.saturate:
            log("raw HTTP limit: plain signed aiohttp POSTs to the same sink")
            raw_rate = await raw_limit(f"{sink_url}/raw", secret, body, args.raw_seconds, 64)
        elapsed = window
        # CPU over the load and its tail (a worker restarted by --kill-worker-every: its own CPU only)
        used = {
            name: after[name][0] - (before[name][1] if before[name][0] == processes[name].pid else 0.0)
            for name in processes
        }
        calls_delivered = len(account.matched)
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
            "console_recording": args.record,
            "saturate": args.saturate,
            "offered_events_per_s": round(4 * args.rate, 1),
            # what the simulator managed to publish (it shares the cores)
            "published_events_per_s": round(expected / (load_ended - started), 1),
            "events_expected": expected,
            "events_delivered": len(first),
            "call_events_delivered": calls_delivered,
            # call notifications whose own event never came but whose effect another event of the
            # call carries (GWS replays nothing: published while no subscription was there, or
            # overtaken by the state recovery read after a re-subscription)
            "events_covered": len(account.covered),
            # call notifications whose effect never reached the sink (neither their own event nor
            # another carrying it): what the guarantee in docs/operations.md rules out
            "events_lost": None if args.saturate else len(account.lost),  # saturated: a backlog
            "events_duplicated": len(arrivals) - len(first),
            "calls_without_released": account.without_released,
            "calls_released_not_last": account.released_not_last,
            "bad_signatures": stats["bad"],
            "faults": FAULTS,
            "missing_sample": account.lost[:5],  # "<call id>:<n>:<event type>" never delivered
            "delivered_per_s": round(delivered_rate, 1),
            "delivery_window_s": round(window, 2),
            "latency_p50_ms": pct[0],
            "latency_p99_ms": pct[1],
            # the part of it from simulator publish to the subscriber normalizing (event `time`)
            "to_subscriber_p50_ms": bridge_pct[0],
            "to_subscriber_p99_ms": bridge_pct[1],
            "raw_http_posts_per_s": round(raw_rate, 1),
            "ratio": round(delivered_rate / raw_rate, 3) if raw_rate else None,
            # CPU per delivered event: the subscriber's, and all workers' together
            **{
                f"{role}_cpu_us_per_event": round(
                    1e6 * sum(cpu for name, cpu in used.items() if name.startswith(role)) / len(first), 1
                )
                if first
                else None
                for role in ("subscriber", "worker")
            },
            "processes": {
                name: {
                    "cpu_s": round(cpu, 2),
                    "cpu_pct": round(100 * cpu / elapsed, 1),
                    "cpu_us_per_event": round(1e6 * cpu / len(first), 1) if first else None,
                    "rss_mb": after[name][1],
                }
                for name, cpu in used.items()
            },
            "cores": os.cpu_count(),
            "tracing": args.tracing,
            "replica_wait": args.replica_wait,
            **(
                {"spans_exported": exported["spans"], "otlp_exports": exported["exports"]}
                if collector_url
                else {}
            ),
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
        if args.keep_logs:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument(
        "--rate", type=float, help="calls per second, 4 events each (default 250; 1500 with --saturate)"
    )
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
    parser.add_argument(
        "--profile-subscriber", metavar="FILE", help="cProfile the subscriber (every thread) into FILE"
    )
    parser.add_argument(
        "--profile-worker", metavar="FILE", help="cProfile the first worker (every thread) into FILE"
    )
    parser.add_argument(
        "--saturate", action="store_true",
        help="offer more than the pipeline takes (--rate defaults to 1500 calls/s) for --seconds; "
        "delivered/s counts what reached the sink within the load, without waiting for the backlog",
    )  # fmt: skip
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the run's directory: every process's log (subscriber at INFO), published.jsonl "
        "(each call notification: time, <call>:<n>, agent, type, state, CometD clients that got it), "
        "arrivals.json (the sink's), faults.json (drop/kill times)",
    )
    parser.add_argument(
        "--recording", choices=("on", "off", "compare"), default="on",
        help="the console's attempt recording ([console] record); compare = off, on, off, on in one run",
    )  # fmt: skip
    parser.add_argument(
        "--replica-wait", choices=("off", "0", "1", "compare"), default="off",
        help="a replica and a sentinel, the bridge through [redis_sentinel] with wait_replicas 0 or 1; "
        "compare = 0, 1, 0, 1 in one run (the WAIT's cost)",
    )  # fmt: skip
    parser.add_argument("--serve-simulator", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--trail", help=argparse.SUPPRESS)
    parser.add_argument(
        "--tracing", choices=("off", "on", "both"), default="off",
        help="[tracing] in the bridge processes (OTLP to a local collector stand-in); both: off, then on",
    )  # fmt: skip
    parser.add_argument("--serve-sink", nargs=2, metavar=("PORT", "SECRET"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-collector", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_simulator:
        serve_simulator(args.serve_simulator, args.agents, args.trail)
        return
    if args.serve_sink:
        serve_sink(int(args.serve_sink[0]), args.serve_sink[1])
        return
    if args.serve_collector:
        serve_collector(args.serve_collector)
        return
    for name in ("profile_subscriber", "profile_worker"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    if args.rate is None:
        args.rate = 1500.0 if args.saturate else 250.0
    if args.replica_wait == "compare":
        args.record = args.recording == "on"
        print(orjson.dumps(compare_replica_wait(args)).decode(), flush=True)
        return
    if args.tracing == "both":
        args.record = args.recording == "on"
        print(orjson.dumps(compare_tracing(args)).decode(), flush=True)
        return
    if args.recording != "compare":
        args.record = args.recording == "on"
        print(orjson.dumps(asyncio.run(bench(args))).decode(), flush=True)
        return
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for record in (False, True, False, True):  # interleaved: drift in the machine's load hits both
        args.record = record
        log(f"console recording {'on' if record else 'off'}")
        runs["on" if record else "off"].append(asyncio.run(bench(args)))
    print(orjson.dumps(compare_recording(runs)).decode(), flush=True)


def compare_recording(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Throughput and worker CPU per delivered event, recording off vs on (sums over the runs)."""

    def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
        delivered = sum(r["events_delivered"] for r in results)
        window = sum(r["delivery_window_s"] for r in results)
        workers = sum(
            p["cpu_s"] for r in results for name, p in r["processes"].items() if name.startswith("worker")
        )
        return {
            "delivered_per_s": round(delivered / window, 1) if window else None,
            "worker_cpu_us_per_event": round(1e6 * workers / delivered, 1) if delivered else None,
            "latency_p50_ms": [r["latency_p50_ms"] for r in results],
            "latency_p99_ms": [r["latency_p99_ms"] for r in results],
            "events_lost": sum(r["events_lost"] for r in results),
            "runs": len(results),
        }

    off, on = summary(runs["off"]), summary(runs["on"])
    first = runs["off"][0]
    cost = None
    if off["worker_cpu_us_per_event"] and on["worker_cpu_us_per_event"]:
        cost = round(100 * (on["worker_cpu_us_per_event"] / off["worker_cpu_us_per_event"] - 1), 1)
    return {
        "bench": "e2e-console-recording",
        **{k: first[k] for k in ("agents", "calls_per_second", "seconds", "workers", "ordered", "cores")},
        "off": off,
        "on": on,
        "throughput_ratio_on_off": (
            round(on["delivered_per_s"] / off["delivered_per_s"], 3) if off["delivered_per_s"] else None
        ),
        "worker_cpu_cost_pct": cost,
    }


_COMPARED = (
    "delivered_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "to_subscriber_p50_ms",
    "to_subscriber_p99_ms",
)


def _cpu_ms_per_event(result: dict[str, Any], prefix: str) -> float | None:
    cpu = sum(p["cpu_s"] for name, p in result["processes"].items() if name.startswith(prefix))
    return round(1000 * cpu / result["events_delivered"], 4) if result["events_delivered"] else None


def compare_tracing(args: argparse.Namespace) -> dict[str, Any]:
    """The pipeline with tracing off, then on, in one run: the figures and their on/off ratios."""
    runs = {}
    for mode in ("off", "on"):
        args.tracing = mode
        FAULTS.clear()
        log(f"tracing {mode}")
        result = asyncio.run(bench(args))
        for role in ("subscriber", "worker"):
            result[f"{role}_cpu_ms_per_event"] = _cpu_ms_per_event(result, role)
        runs[mode] = result
    keys = [*_COMPARED, "subscriber_cpu_ms_per_event", "worker_cpu_ms_per_event"]
    ratios = {
        key: round(runs["on"][key] / runs["off"][key], 3)
        if runs["off"].get(key) and runs["on"].get(key)
        else None
        for key in keys
    }
    return {
        "bench": "e2e-tracing",
        **{key: runs["off"][key] for key in ("agents", "calls_per_second", "seconds", "workers", "ordered")},
        "off": {key: runs["off"][key] for key in [*keys, "events_delivered", "events_lost"]},
        "on": {
            key: runs["on"].get(key) for key in [*keys, "events_delivered", "events_lost", "spans_exported"]
        },
        "on_over_off": ratios,
        "cores": os.cpu_count(),
    }


def compare_replica_wait(args: argparse.Namespace) -> dict[str, Any]:
    """``wait_replicas`` 0, 1, 0, 1 through one replica and sentinel: CPU per event and latency."""
    runs: dict[str, list[dict[str, Any]]] = {"0": [], "1": []}
    for wait in ("0", "1", "0", "1"):  # interleaved: drift in the machine's load hits both
        args.replica_wait = wait
        FAULTS.clear()
        log(f"wait_replicas {wait}")
        runs[wait].append(asyncio.run(bench(args)))

    def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
        delivered = sum(r["events_delivered"] for r in results)

        def cpu(prefix: str) -> float | None:
            used = sum(p["cpu_s"] for r in results for n, p in r["processes"].items() if n.startswith(prefix))
            return round(1e6 * used / delivered, 1) if delivered else None

        return {
            **{
                f"{role}_cpu_us_per_event": cpu(role) for role in ("subscriber", "worker", "redis", "replica")
            },
            "latency_p50_ms": [r["latency_p50_ms"] for r in results],
            "latency_p99_ms": [r["latency_p99_ms"] for r in results],
            "delivered_per_s": [r["delivered_per_s"] for r in results],
            "events_lost": sum(r["events_lost"] or 0 for r in results),
            "runs": len(results),
        }

    off, on = summary(runs["0"]), summary(runs["1"])
    return {
        "bench": "e2e-replica-wait",
        **{
            k: runs["0"][0][k]
            for k in ("agents", "calls_per_second", "seconds", "workers", "ordered", "cores")
        },
        "wait_replicas_0": off,
        "wait_replicas_1": on,
        "subscriber_cpu_cost_pct": (
            round(100 * (on["subscriber_cpu_us_per_event"] / off["subscriber_cpu_us_per_event"] - 1), 1)
            if off["subscriber_cpu_us_per_event"] and on["subscriber_cpu_us_per_event"]
            else None
        ),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    main()
