"""``gws-bridge demo``: the whole bridge on one machine, with nothing else installed but redis-server.

One command starts, all on loopback:

- the GWS simulator (in this process) with a few agents;
- Redis: ``--redis-url`` / ``REDIS_URL`` if given, else a private ``redis-server`` child
  (no persistence; see :mod:`bridge.demo.stack` for why there is no in-process broker);
- the real bridge processes, exactly as production runs them: ``gws-bridge subscriber``,
  ``gws-bridge worker``, ``gws-bridge receiver`` and ``gws-bridge console`` on a generated
  configuration (the console's URL and a viewer and an operator key for this run are printed);
- a "CRM" (in this process) that verifies every Standard Webhooks signature.

Then it plays a day in the contact center: agents start their shift through ``/v1/commands``,
a customer calls, the agent answers, attaches case data and sets a disposition (commands),
an agent goes Not Ready with a reason, an e-mail arrives and is accepted, callers pile up in the
Support queue and drain (the subscriber polls the simulator's Statistics API every second: a
``BOARD`` line shows the wallboard's figures at each ``stats.updated``, an ``ALERT`` line each
threshold crossing), the voice service goes down and comes back, the agent back from lunch is
Ready again, and more calls follow until ``--duration`` seconds after the bridge came up
(start-up takes a few seconds: the children import Celery, log in, subscribe). Each GWS
notification, each command and each event the CRM receives is printed on one line; a summary
ends the run, after Ctrl-C too. Exit status 0, or 1 if the bridge could not start or a child died
(their logs are then kept, and their directory printed). Every child is stopped at exit (and by
the kernel if this process dies).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bridge.config.console import DEFAULT_CONSOLE_PORT
from bridge.config.inbound import hash_api_key
from bridge.config.keys import DEFAULT_KEYS
from bridge.demo.day import ScriptedDay
from bridge.demo.sink import CrmSink
from bridge.demo.stack import DemoConfig, EmbeddedRedis, free_port, redact_url, render_config, wait_for_redis
from bridge.demo.terminal import Terminal, describe_event, describe_notification
from bridge.errors import ConfigError
from bridge.processes.supervisor import ChildProcess, ChildSpec, Supervisor, bridge_command, describe_exit
from bridge.redis_client import async_redis
from simulator.app import Simulator, SimulatorConfig, create_app

__all__ = ["add_arguments", "describe_event", "describe_notification", "run"]


logger = logging.getLogger(__name__)

_PASSWORD_ENV = "DEMO_AGENT_PASSWORD"
_SECRET_ENV = "DEMO_CRM_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--duration``, ``--agents``, ``--redis-url`` (default: the ``REDIS_URL`` environment variable)."""
    parser.add_argument(
        "--duration",
        type=float,
        default=40.0,
        help="seconds the scripted day runs once the bridge is up (default 40; Ctrl-C stops earlier)",
    )
    parser.add_argument("--agents", type=int, default=3, help="simulated agents (default 3)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or None,
        help="use this Redis (default: $REDIS_URL, else a private redis-server; its db is not flushed)",
    )
    parser.add_argument(
        "--quiet-gws", action="store_true", help="do not print the GWS notifications, only the CRM side"
    )


# -- start, run, stop --------------------------------------------------------------------------------


def _console_port() -> int:
    """The console's default port when it is free, so the URL is the same run after run; else any."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", DEFAULT_CONSOLE_PORT))
        except OSError:
            return free_port()
    return DEFAULT_CONSOLE_PORT


def _holds_files(directory: Path) -> bool:
    return any(path.is_file() for path in directory.rglob("*"))


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM while the bridge was still starting."""


async def _wait_until(
    what: str, check: Any, within: float, children: list[ChildProcess], stop: asyncio.Event
) -> None:
    deadline = time.monotonic() + within
    while True:
        if stop.is_set():
            raise _Interrupted(what)
        with contextlib.suppress(Exception):
            if await check():
                return
        for child in children:
            if child.returncode is not None:
                raise ConfigError(f"{child.name} stopped ({describe_exit(child.returncode)}) while {what}")
        if time.monotonic() > deadline:
            raise ConfigError(f"timed out after {within:.0f} s {what}")
        await asyncio.sleep(0.1)


def _summary(
    sink: CrmSink, day: ScriptedDay | None, elapsed: float, broker: str, codes: dict[str, int | None]
) -> None:
    types = Counter(item.type for item in sink.events)
    latencies = sorted(x for x in (item.latency() for item in sink.events) if x is not None)
    print(
        f"summary: {len(sink.events)} events delivered to the CRM in {elapsed:.1f} s "
        f"({len(sink.seen)} distinct webhook-ids, {sink.duplicates} repeated deliveries, "
        f"{sink.bad_signatures} bad signatures)",
        flush=True,
    )
    if types:
        print(
            "  by type: " + ", ".join(f"{name} {count}" for name, count in sorted(types.items())), flush=True
        )
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        print(f"  bridge → CRM latency: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms", flush=True)
    if day is not None:
        print(f"  commands: {day.commands['ok']} accepted, {day.commands['refused']} refused", flush=True)
    print(f"  broker: {broker}", flush=True)
    if codes:
        print("  processes: " + ", ".join(f"{n} {describe_exit(c)}" for n, c in codes.items()), flush=True)


async def run(args: argparse.Namespace) -> int:
    """Start everything, play the day for ``args.duration`` s (or until Ctrl-C/SIGTERM).

    Returns 0, or 1 if the bridge could not start or a child died.
    """
    for name in ("aiocometd_noloop", "simulator", "bridge.processes"):
        logging.getLogger(name).setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    terminal = Terminal(args.quiet_gws)
    agents = [f"agent{n:04d}" for n in range(1, max(1, args.agents) + 1)]
    # the children's configuration and logs; removed at the end unless the run failed
    logs = Path(tempfile.mkdtemp(prefix="gwsb-demo-"))
    crm_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    api_key = secrets.token_urlsafe(24)
    viewer_key, operator_key = f"viewer-{secrets.token_urlsafe(12)}", f"operator-{secrets.token_urlsafe(12)}"
    sink = CrmSink(crm_secret, on_event=terminal.delivered)
    supervisor = Supervisor()
    embedded: EmbeddedRedis | None = None
    sim_runner: web.AppRunner | None = None
    http: aiohttp.ClientSession | None = None
    day: ScriptedDay | None = None
    codes: dict[str, int | None] = {}
    broker = ""
    status = 0
    script: asyncio.Task[None] | None = None
    try:
        if args.redis_url:
            redis_url, broker = (
                args.redis_url,
                f"{redact_url(args.redis_url)} (given; durable as that server is)",
            )
            await wait_for_redis(redis_url, 5.0)
        else:
            embedded = EmbeddedRedis(logs / "redis")  # in the run's directory: one to keep or remove
            await embedded.start()
            redis_url = embedded.url
            broker = f"embedded redis-server on {redis_url}, persistence off (NOT durable: for the demo only)"
        terminal.line(f"Redis: {broker}")

        sim_port = free_port()
        sim_config = SimulatorConfig(host="127.0.0.1", port=sim_port, agents=len(agents))
        simulator = Simulator(sim_config)
        simulator.observers.append(terminal.notification)
        sim_runner = web.AppRunner(create_app(sim_config, simulator), access_log=None, handle_signals=False)
        await sim_runner.setup()
        await web.TCPSite(sim_runner, "127.0.0.1", sim_port).start()
        sim_url = sim_config.url()
        sink_url = await sink.start()
        receiver_port = free_port()
        console_port = _console_port()
        config_path = logs / "bridge.toml"
        config_path.write_text(
            render_config(
                DemoConfig(
                    redis_url=redis_url, gws_url=sim_url, agents=agents, sink_url=sink_url,
                    receiver_port=receiver_port, api_key_hash=hash_api_key(api_key),
                    password_env=_PASSWORD_ENV, secret_env=_SECRET_ENV, console_port=console_port,
                    console_key_hashes=(hash_api_key(viewer_key), hash_api_key(operator_key)),
                )
            ),
            encoding="utf-8",
        )  # fmt: skip
        terminal.line(f"GWS simulator on {sim_url} with {len(agents)} agents; CRM webhook at {sink_url}")

        # The children get the demo's secrets by environment, and none of the caller's GWSB_ settings.
        env = {key: value for key, value in os.environ.items() if not key.startswith("GWSB_")}
        env.update({_PASSWORD_ENV: "password", _SECRET_ENV: crm_secret, "PYTHONUNBUFFERED": "1"})
        config = str(config_path)
        worker_name = f"demo-{os.getpid()}"
        quiet = ("--config", config, "--log-level", "WARNING")
        specs = [
            ChildSpec("worker", bridge_command("worker", *quiet, "--hostname", worker_name), env,
                      logs / "worker.log", True),
            ChildSpec("subscriber", bridge_command("subscriber", *quiet), env, logs / "subscriber.log", True),
            ChildSpec("receiver", bridge_command("receiver", *quiet), env, logs / "receiver.log", True),
            ChildSpec("console", bridge_command("console", *quiet), env, logs / "console.log", True),
        ]  # fmt: skip
        children = [supervisor.start(spec) for spec in specs]
        terminal.line(f"started {', '.join(f'{c.name} (pid {c.pid})' for c in children)}; logs in {logs}")
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        redis = async_redis(redis_url)
        receiver_url = f"http://127.0.0.1:{receiver_port}"
        session = http

        async def worker_ready() -> bool:
            return bool(await redis.exists(DEFAULT_KEYS.worker(worker_name)))  # the default key_prefix

        async def receiver_ready() -> bool:
            async with session.get(f"{receiver_url}/healthz") as reply:
                return reply.status == 200

        console_url = f"http://127.0.0.1:{console_port}"

        async def console_ready() -> bool:
            async with session.get(f"{console_url}/healthz") as reply:
                return reply.status == 200

        async def subscriber_ready() -> bool:
            return int(simulator.status()["cometdClients"]) >= len(agents)

        try:
            await _wait_until("waiting for the worker", worker_ready, 60, children, stop)
            await _wait_until("waiting for the receiver", receiver_ready, 60, children, stop)
            await _wait_until("waiting for the console", console_ready, 60, children, stop)
            await _wait_until(
                "waiting for the subscriber's CometD sessions", subscriber_ready, 60, children, stop
            )
        finally:
            await redis.aclose()
        terminal.line("the bridge is up: subscriber, worker, receiver and console are running")
        terminal.line(
            f"operator console: {console_url}/  (viewer key {viewer_key}, operator key {operator_key};"
            " valid for this run only)"
        )

        day = ScriptedDay(http, sim_url, receiver_url, api_key, agents, sink, terminal)
        pause = max(0.3, min(1.2, args.duration / 30))
        script = asyncio.create_task(day.play(pause))
        remaining = max(0.0, args.duration)
        failure = asyncio.create_task(supervisor.wait_for_failure(stop))
        done, _ = await asyncio.wait(
            {script, failure}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
        )
        if failure in done and failure.result() is not None:
            dead = failure.result()
            assert dead is not None
            terminal.line(
                f"{dead.name} stopped unexpectedly ({describe_exit(dead.returncode)}); see {dead.spec.log}"
            )
            status = 1
        elif script in done and script.exception() is not None:
            terminal.line(f"the script failed: {script.exception()!r}")
        stop.set()
        await failure
        script.cancel()
        await asyncio.gather(script, return_exceptions=True)
        if status == 0:
            terminal.line("stopping: waiting briefly for the last deliveries")
            await asyncio.sleep(1.5)
    except _Interrupted:
        terminal.line("interrupted while the bridge was starting")
    except ConfigError as exc:
        print(f"gws-bridge demo: {exc}", file=sys.stderr)
        for child in supervisor.children:
            if child.spec.log is not None and child.spec.log.exists():
                tail = child.spec.log.read_text(errors="replace")[-1500:]
                print(f"--- {child.name} log (last lines) ---\n{tail}", file=sys.stderr)
        status = 1
    finally:
        if script is not None and not script.done():
            script.cancel()
            await asyncio.gather(script, return_exceptions=True)
        codes = await supervisor.stop_all(grace=15)
        elapsed = time.monotonic() - terminal.started
        if broker:
            _summary(sink, day, elapsed, broker, codes)
        if http is not None:
            await http.close()
        await sink.stop()
        if sim_runner is not None:
            await sim_runner.cleanup()
        if embedded is not None:
            embedded.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if status != 0 and _holds_files(logs):  # what the failure message points to must stay
            print(f"  the processes' logs are kept in {logs}", flush=True)
        else:
            shutil.rmtree(logs, ignore_errors=True)
    return status
