"""Benchmark: the Slack connector and Slack chatops, on loopback.

Everything runs in this process on one event loop, with a private ``redis-server``:

1. ``render_per_s``: Block Kit rendering of the fixture families (pure);
2. the connector (bot mode, threads on, channel pacing off) posting ``--calls`` calls of three
   events each (ringing → established → released: one root, two thread replies) to a mock Slack
   Web API, ``--concurrency`` sends in flight, several channels: sends/s and send latency;
3. pacing: ``--paced`` posts to one channel from two connectors with ``channel_interval`` =
   ``--interval``: the observed gaps between posts at the mock;
4. chatops: ``--commands`` signed ``/agent ready`` slash commands to a receiver in front of the
   in-process simulator, each agent's commands in turn (Ready, Not Ready, …): acknowledgement
   latency (Slack wants < 3 s) and the time until the GWS-confirmed outcome reached ``response_url``.

Prints one JSON line of figures on stdout; progress on stderr.

    .venv/bin/python bench/slack.py [--calls 400] [--concurrency 32] [--channels 8]
                                    [--paced 10] [--interval 0.1] [--commands 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from aiohttp import web
from redis.asyncio import Redis
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.config import Settings  # noqa: E402
from bridge.config.delivery import DestinationConfig  # noqa: E402
from bridge.config.gws import AgentConfig, GwsSettings  # noqa: E402
from bridge.config.inbound import InboundSettings  # noqa: E402
from bridge.config.slack import SlackInboundSettings  # noqa: E402
from bridge.events import Event  # noqa: E402
from bridge.inbound.app import create_app  # noqa: E402
from connectors.slack import SlackConnector  # noqa: E402
from connectors.slack_blocks import render_event  # noqa: E402
from simulator.app import Simulator, SimulatorConfig  # noqa: E402
from simulator.app import create_app as create_simulator  # noqa: E402

TOKEN = "xoxb-bench"
SECRET = "bench-signing-secret"
FIXTURES = json.loads((ROOT / "tests" / "fixtures" / "slack" / "events.json").read_text())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def event(kind: str, **changes: Any) -> Event:
    document = json.loads(json.dumps(FIXTURES[kind]))
    document["id"] = uuid.uuid4().hex
    call_id = changes.pop("call_id", None)
    document["data"].update(changes)
    if call_id is not None:
        document["data"]["call_id"] = call_id
        document["subject"] = f"call/{call_id}"
    return Event.model_validate(document)


class MockSlack:
    """Web API + response_url targets, recording arrival times."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.responses = 0
        self.responded: dict[str, asyncio.Future[str]] = {}  # response_url path -> the outcome text
        self._ts = itertools.count(1)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.path.startswith("/response/"):
            self.responses += 1
            waiter = self.responded.get(request.path)
            if waiter is not None and not waiter.done():
                waiter.set_result(str(orjson.loads(body).get("text")))
            return web.Response(text="ok")
        document = orjson.loads(body) if body else {}
        self.arrivals.setdefault(str(document.get("channel")), []).append(time.monotonic())
        ts = f"1700000000.{next(self._ts):06d}"
        return web.json_response({"ok": True, "channel": document.get("channel"), "ts": ts})


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def connector(
    base: str, redis: Redis, session: aiohttp.ClientSession, channel: str, **options: Any
) -> SlackConnector:
    options = {"token": "env:T", "channel": channel, "api_base_url": f"{base}/api/", **options}
    config = DestinationConfig(name=f"slack-{channel}", kind="slack", options=options)
    return SlackConnector(config, session=session, redis=redis, environ={"T": TOKEN})


def bench_render(seconds: float = 1.0) -> float:
    events = [event(kind) for kind in FIXTURES]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for item in events:
            render_event(item, dispositions=["A", "B", "C"])
        count += len(events)
    return count / (time.perf_counter() - started)


async def bench_connector(
    args: argparse.Namespace, base: str, redis: Redis, mock: MockSlack
) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        connectors = [
            connector(base, redis, session, f"C{n:04d}", channel_interval=0) for n in range(args.channels)
        ]
        jobs: asyncio.Queue[tuple[SlackConnector, list[Event]]] = asyncio.Queue()
        for n in range(args.calls):
            call = f"{n:016x}"
            kinds = ("call.ringing", "call.established", "call.released")
            jobs.put_nowait((connectors[n % len(connectors)], [event(k, call_id=call) for k in kinds]))
        latencies: list[float] = []

        async def worker() -> None:
            while not jobs.empty():
                slack, events = jobs.get_nowait()
                for item in events:  # a call's events in order, as the FIFO delivery would
                    started = time.perf_counter()
                    await slack.send(item)
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "connector_sends_per_s": round(len(latencies) / elapsed, 1),
        "connector_send_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "connector_send_p99_ms": round(pct(latencies, 0.99) * 1000, 2),
        "connector_sends": len(latencies),
    }


async def bench_pacing(args: argparse.Namespace, base: str, redis: Redis, mock: MockSlack) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        workers = [
            connector(base, redis, session, "CPACED", channel_interval=args.interval, max_pace_wait=60)
            for _ in range(2)
        ]
        await asyncio.gather(*(workers[n % 2].send(event("agent.state_changed")) for n in range(args.paced)))
    arrivals = sorted(mock.arrivals.get("CPACED", []))
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    return {
        "paced_interval_s": args.interval,
        "paced_gap_min_s": round(min(gaps), 4) if gaps else None,
        "paced_gap_mean_s": round(statistics.mean(gaps), 4) if gaps else None,
    }


async def bench_chatops(
    args: argparse.Namespace, base: str, redis_url: str, mock: MockSlack
) -> dict[str, Any]:
    sim_config = SimulatorConfig(host="127.0.0.1", port=free_port(), agents=5)
    sim = Simulator(sim_config)
    sim_runner = web.AppRunner(create_simulator(sim_config, sim), access_log=None)
    await sim_runner.setup()
    await web.TCPSite(sim_runner, "127.0.0.1", sim_config.port).start()
    agents = sorted(sim.state.users)
    users = {f"U{n:08d}": name for n, name in enumerate(agents)}
    settings = Settings(
        redis_url=redis_url,
        gws=GwsSettings(base_url=sim_config.url(), request_timeout=10.0),
        agents=[AgentConfig(username=name, password="password") for name in agents],
        inbound=InboundSettings(
            slack=SlackInboundSettings(
                signing_secret=SECRET,
                users=users,
                response_url_prefixes=[f"{base}/response/"],
                outcome_wait=5,
            )
        ),
    )
    app = create_app(settings)
    runner, url = await serve(app)
    signer = SignatureVerifier(SECRET)
    acks: list[float] = []
    outcomes: list[float] = []
    texts: list[str] = []
    loop = asyncio.get_running_loop()
    per_agent = max(args.commands // len(agents), 1)
    async with aiohttp.ClientSession() as http:

        async def one(user: str, n: int) -> None:
            path = f"/response/{user}-{n}"
            mock.responded[path] = loop.create_future()
            body = urlencode(
                {
                    "command": "/agent",
                    "text": "ready" if n % 2 == 0 else "notready",
                    "user_id": user,
                    "response_url": base + path,
                    "trigger_id": uuid.uuid4().hex,
                }
            ).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body) or "",
            }
            started = time.perf_counter()
            async with http.post(f"{url}/slack/commands", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            acks.append(time.perf_counter() - started)
            texts.append(await asyncio.wait_for(mock.responded[path], 30))
            outcomes.append(time.perf_counter() - started)

        async def agent_loop(user: str) -> None:  # one agent's commands one after another
            for n in range(per_agent):
                await one(user, n)

        started = time.perf_counter()
        await asyncio.gather(*(agent_loop(user) for user in users))
        elapsed = time.perf_counter() - started
    await runner.cleanup()
    await sim_runner.cleanup()
    return {
        "chatops_ack_p50_ms": round(statistics.median(acks) * 1000, 2),
        "chatops_ack_p99_ms": round(pct(acks, 0.99) * 1000, 2),
        "chatops_ack_max_ms": round(max(acks) * 1000, 2),
        "chatops_outcome_p50_ms": round(statistics.median(outcomes) * 1000, 2),
        "chatops_outcome_p99_ms": round(pct(outcomes, 0.99) * 1000, 2),
        "chatops_confirmed": sum(1 for t in texts if t.startswith(":white_check_mark:")),
        "chatops_commands": len(texts),
        "chatops_commands_per_s": round(len(texts) / elapsed, 1),
    }


async def run(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    redis = Redis.from_url(redis_url)
    try:
        for _ in range(100):
            try:
                await redis.ping()
                break
            except Exception:
                await asyncio.sleep(0.05)
        mock = MockSlack()
        mock_app = web.Application()
        mock_app.router.add_route("POST", "/{tail:.*}", mock.handle)
        mock_runner, base = await serve(mock_app)
        figures: dict[str, Any] = {}
        log("rendering…")
        figures["render_per_s"] = round(bench_render(), 1)
        log(f"connector: {args.calls} calls x 3 events…")
        figures.update(await bench_connector(args, base, redis, mock))
        log(f"pacing: {args.paced} posts at {args.interval}s…")
        figures.update(await bench_pacing(args, base, redis, mock))
        log(f"chatops: {args.commands} slash commands…")
        figures.update(await bench_chatops(args, base, redis_url, mock))
        await mock_runner.cleanup()
        return figures
    finally:
        await redis.aclose()


def main(args: argparse.Namespace) -> dict[str, Any]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [*command, "--dir", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            return asyncio.run(run(args, f"redis://127.0.0.1:{port}/0"))
        finally:
            process.terminate()
            process.wait(timeout=10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--paced", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--commands", type=int, default=200)
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(parse_args())))
