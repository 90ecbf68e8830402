"""Delivery throughput: signed webhooks through Celery on Redis, against plain aiohttp POSTs.

Starts a private ``redis-server`` and a recording HTTP sink (its own process),
then measures:

- ``raw``: plain aiohttp POSTs of the same body to the same sink (one session,
  ``--in-flight`` concurrent) — the limit of this machine;
- ``pipeline``: events published through ``CeleryEventSink`` (closed loop, at
  most ``--window`` events in flight), delivered by 1, then 2 ``gws-bridge worker``
  processes, signed (Standard Webhooks) — throughput and enqueue→receipt p50/p99
  at saturation (queueing included: Little's law, window / rate);
- ``paced``: the same pipeline at ``--paced-rate`` events/s (open loop), where
  p50/p99 show the pipeline's own latency rather than the queue's.

Prints one JSON line on stdout; progress goes to stderr. A sample of the
received requests is verified with the ``standardwebhooks`` library.

    .venv/bin/python bench/delivery.py [--events 20000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any, cast

import aiohttp
import orjson
import redis
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.config import load_settings  # noqa: E402
from bridge.config.keys import Keys  # noqa: E402
from bridge.delivery.sink import CeleryEventSink  # noqa: E402
from bridge.events import Event  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the sink (own process) ----------------------------------------------------------------------


def run_sink(port: int, counter: Synchronized) -> None:
    latencies: list[float] = []
    ids: set[str] = set()
    samples: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        webhook_id = request.headers.get("webhook-id")
        if webhook_id is not None:
            ids.add(webhook_id)
            latencies.append(now - orjson.loads(body)["data"]["t"])
            if len(samples) < 50:
                samples.append({"headers": dict(request.headers), "body": body.decode()})
        with counter.get_lock():
            counter.value += 1
        return web.Response(text="ok")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"received": counter.value, "unique": len(ids), "latencies": latencies,
                                  "samples": samples})  # fmt: skip

    async def reset(request: web.Request) -> web.Response:
        latencies.clear()
        ids.clear()
        samples.clear()
        with counter.get_lock():
            counter.value = 0
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    app.router.add_get("/_stats", stats)
    app.router.add_post("/_reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, handle_signals=True)


# -- measurements --------------------------------------------------------------------------------


def make_event(n: int) -> Event:
    return Event(
        id=f"bench-{n}",
        source="gws-bridge/bench",
        type="call.ringing",
        subject=f"call/{n % 500}",
        time=datetime.now(UTC),
        data={"t": time.time(), "agent": "agent1", "ani": "+15551230000", "dnis": "5000", "n": n,
              "userData": {"CaseId": f"C-{n}", "queue": "sales"}},
        sequence=n,
        partitionkey="agent1",
    )  # fmt: skip


async def measure_raw(url: str, count: int, in_flight: int) -> float:
    """Plain POSTs per second (no signing, no queue)."""
    body = make_event(0).to_json()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        remaining = count

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
                    await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(in_flight)))
        return count / (time.perf_counter() - start)


async def sink_stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.get(f"{base}/_stats") as response:
        return dict(await response.json())


async def measure_pipeline(
    config: Path,
    base: str,
    counter: Synchronized,
    count: int,
    window: int,
    batch: int,
) -> dict[str, Any]:
    sink = CeleryEventSink.from_settings(load_settings(config))
    async with aiohttp.ClientSession() as session:
        await (await session.post(f"{base}/_reset")).release()
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        publish_times: list[float] = []

        async def ticker() -> None:  # how long the subscriber's loop is held up by publish()
            while True:
                before = loop.time()
                await asyncio.sleep(0.001)
                lags.append(loop.time() - before - 0.001)

        ticking = asyncio.create_task(ticker())
        start = time.perf_counter()
        sent = 0
        try:
            while sent < count:
                if sent - counter.value >= window:
                    await asyncio.sleep(0.001)
                    continue
                size = min(batch, count - sent)
                events = [make_event(sent + i) for i in range(size)]
                began = time.perf_counter()
                await sink.publish(events)
                publish_times.append(time.perf_counter() - began)
                sent += size
            ticking.cancel()
            for _ in range(24000):  # at most 2 minutes
                if counter.value >= count:
                    break
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - start
        finally:
            await sink.aclose()
        stats = await sink_stats(session, base)
    verify_samples(stats["samples"])
    journal_left = await asyncio.to_thread(journal_depth_settled, load_settings(config).redis_url)
    return {
        "events": count,
        "delivered_unique": stats["unique"],
        "duplicates": stats["received"] - stats["unique"],
        "events_per_s": round(stats["unique"] / elapsed, 1),
        "p50_ms": round(percentile(stats["latencies"], 0.50) * 1000, 1),
        "p99_ms": round(percentile(stats["latencies"], 0.99) * 1000, 1),
        "publish_ms_per_call_p50": round(percentile(publish_times, 0.5) * 1000, 2),
        "publish_loop_lag_ms_p99": round(percentile(lags, 0.99) * 1000, 2),
        "journal_left": journal_left,  # batches still journaled once all was delivered: should be 0
    }


def journal_depth_settled(redis_url: str, within: float = 3.0) -> int:
    """Batches left in the journal, waiting up to ``within`` s for the last outcomes to be recorded."""
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + within
        while True:
            depth = cast(int, client.zcard(Keys().journal_due))
            if depth == 0 or time.monotonic() > deadline:
                return depth
            time.sleep(0.05)
    finally:
        client.close()


def verify_samples(samples: list[dict[str, Any]]) -> None:
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(SECRET)
    for sample in samples:
        signer.verify(sample["body"], sample["headers"])  # raises on a bad signature


async def measure_paced_latency(
    config: Path, base: str, counter: Synchronized, rate: int, seconds: float, offset: int
) -> dict[str, Any]:
    """Open loop at ``rate`` events/s (a publish every 10 ms): latency when not saturated."""
    sink = CeleryEventSink.from_settings(load_settings(config))
    per_tick = max(1, rate // 100)
    ticks = int(seconds * 100)
    async with aiohttp.ClientSession() as session:
        await (await session.post(f"{base}/_reset")).release()
        try:
            start = time.perf_counter()
            for tick in range(ticks):
                await sink.publish([make_event(offset + tick * per_tick + i) for i in range(per_tick)])
                await asyncio.sleep(max(0.0, start + (tick + 1) / 100 - time.perf_counter()))
            for _ in range(2000):  # at most 10 s
                if counter.value >= ticks * per_tick:
                    break
                await asyncio.sleep(0.005)
        finally:
            await sink.aclose()
        stats = await sink_stats(session, base)
    return {
        "rate": per_tick * 100,
        "p50_ms": round(percentile(stats["latencies"], 0.50) * 1000, 1),
        "p99_ms": round(percentile(stats["latencies"], 0.99) * 1000, 1),
    }


# -- processes -----------------------------------------------------------------------------------


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", directory, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    client.close()
    return process, f"redis://127.0.0.1:{port}/0"


def start_workers(
    config: Path, count: int, concurrency: int, redis_url: str
) -> list[subprocess.Popen[bytes]]:
    workers = []
    names = []
    for i in range(count):
        name = f"bench-{i}-{os.getpid()}"
        names.append(name)
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "bridge.cli", "worker", "--config", str(config), "--hostname", name,
                 "--concurrency", str(concurrency), "--log-level", "WARNING"],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 30
    while not all(client.exists(f"gwsb:worker:{n}") for n in names):
        if time.monotonic() > deadline:
            sys.exit("workers did not start")
        time.sleep(0.05)
    client.close()
    time.sleep(0.5)
    return workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20000, help="events per pipeline run")
    parser.add_argument("--raw-requests", type=int, default=20000, help="POSTs for the raw limit")
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure")
    parser.add_argument("--concurrency", type=int, default=4, help="task threads per worker")
    parser.add_argument("--window", type=int, default=3000, help="max events published but not received")
    parser.add_argument("--batch", type=int, default=100, help="events per publish call (and per task)")
    parser.add_argument("--paced-rate", type=int, default=1000, help="events/s of the latency run (0: skip)")
    parser.add_argument("--paced-seconds", type=float, default=3.0, help="length of the latency run")
    parser.add_argument("--in-flight", type=int, default=64, help="concurrent requests (raw and per worker)")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="gwsb-bench-")
    redis_process, redis_url = start_redis(directory)
    port = free_port()
    counter: Synchronized = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port, counter), daemon=True)
    sink.start()
    base = f"http://127.0.0.1:{port}"
    time.sleep(1.0)
    config = Path(directory) / "bench.toml"
    config.write_text(
        f'redis_url = "{redis_url}"\n'
        f"[delivery]\nbatch_size = {args.batch}\n"
        f'[[destinations]]\nname = "bench"\nkind = "webhook"\nurl = "{base}/hook"\n'
        f'secrets = ["{SECRET}"]\nmax_in_flight = {args.in_flight}\n'
        f'[[routes]]\nevents = ["call.*"]\ndestinations = ["bench"]\n'
    )
    result: dict[str, Any] = {"machine_cpus": os.cpu_count(), "batch": args.batch}
    try:
        log(f"raw limit: {args.raw_requests} plain POSTs, {args.in_flight} in flight")
        own_before = time.process_time()
        raw = asyncio.run(measure_raw(f"{base}/hook", args.raw_requests, args.in_flight))
        result["raw_client_cpu_us_per_post"] = round(
            (time.process_time() - own_before) / args.raw_requests * 1e6, 1
        )
        result["raw_posts_per_s"] = round(raw, 1)
        log(f"raw: {raw:.0f}/s")
        for count in (int(x) for x in args.workers.split(",")):
            workers = start_workers(config, count, args.concurrency, redis_url)
            try:
                log(f"pipeline: {args.events} events, {count} worker process(es)")
                cpu_before = sum(cpu_seconds(w.pid) for w in workers)
                sink_before = cpu_seconds(sink.pid or 0)
                figures = asyncio.run(
                    measure_pipeline(config, base, counter, args.events, args.window, args.batch)
                )
                if args.paced_rate:
                    log(f"paced: {args.paced_rate} events/s for {args.paced_seconds} s")
                    figures["paced"] = asyncio.run(
                        measure_paced_latency(
                            config, base, counter, args.paced_rate, args.paced_seconds, 10 * args.events
                        )
                    )
                worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
                figures["worker_cpu_us_per_event"] = round(worker_cpu / args.events * 1e6, 1)
                figures["sink_cpu_us_per_event"] = round(
                    (cpu_seconds(sink.pid or 0) - sink_before) / args.events * 1e6, 1
                )
            finally:
                stop(workers)
            figures["ratio_to_raw"] = round(figures["events_per_s"] / raw, 3)
            result[f"workers_{count}"] = figures
            log(f"{count} worker(s): {figures}")
    finally:
        sink.terminate()
        sink.join(timeout=10)
        redis_process.terminate()
        redis_process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
