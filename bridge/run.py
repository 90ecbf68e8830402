"""``gws-bridge run``: a single-node production set-up — subscriber, worker(s), receiver — as children.

Each role is the ordinary subcommand (``gws-bridge subscriber|worker|receiver --config FILE``)
in its own child process, so a crash in one cannot corrupt the others and each keeps its own
event loop. The parent only supervises:

- SIGTERM or SIGINT: every child gets SIGTERM at once (workers finish their running tasks,
  subscribers release their leases), then SIGKILL after ``--grace`` seconds; exit 0.
- A child that exits on its own is a failure: the parent logs which child and how it ended,
  stops the others the same way and exits 1, so that systemd, Docker or Kubernetes restarts
  the node as a whole (it does not restart children itself: a crash loop should be visible).
- Children run in their own process group (a terminal's Ctrl-C reaches only the parent, which
  stops them in order) and get SIGTERM from the kernel if the parent dies (``PR_SET_PDEATHSIG``
  on Linux), so no child outlives its parent, whatever happens to it.

:class:`ChildProcess` and :class:`Supervisor` are reused by ``gws-bridge demo`` and the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bridge.errors import ConfigError

__all__ = [
    "DESCRIPTION",
    "ChildProcess",
    "ChildSpec",
    "Supervisor",
    "add_arguments",
    "bridge_command",
    "node_children",
    "run",
]

DESCRIPTION = "run a single node: subscriber, worker(s) and receiver as supervised child processes"

logger = logging.getLogger(__name__)

# Runs before the child's program (exec'd in place): ask the kernel for SIGTERM when the parent
# dies, and give up if it already has. A launcher instead of Popen(preexec_fn=…): preexec_fn is
# unsafe in a threaded parent (and warns on newer Pythons); this costs one interpreter start.
_LAUNCHER = """
import ctypes, os, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _with_parent_death_signal(argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped so that the child gets SIGTERM when this process dies (Linux; as is elsewhere)."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]


def bridge_command(subcommand: str, *args: str) -> list[str]:
    """``python -m bridge.cli SUBCOMMAND ARGS…`` with this interpreter (works without the script on PATH)."""
    return [sys.executable, "-m", "bridge.cli", subcommand, *args]


@dataclass(frozen=True)
class ChildSpec:
    """One child: a name for logs, its command line, extra environment, where its output goes."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    log: Path | None = None  # None: inherit the parent's stdout and stderr
    replace_env: bool = False  # True: ``env`` is the whole environment, not additions


@dataclass
class ChildProcess:
    """A started child. ``returncode`` is None while it runs."""

    spec: ChildSpec
    popen: subprocess.Popen[bytes]
    log_file: IO[bytes] | None = None
    started_at: float = field(default_factory=time.monotonic)
    stopping: bool = False

    @classmethod
    def start(cls, spec: ChildSpec) -> ChildProcess:
        """Start ``spec``; raises ``OSError`` if it cannot be executed."""
        env = dict(spec.env or {}) if spec.replace_env else {**os.environ, **(spec.env or {})}
        env.setdefault("PYTHONUNBUFFERED", "1")
        log_file = spec.log.open("ab") if spec.log is not None else None
        popen = subprocess.Popen(
            _with_parent_death_signal(spec.argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT if log_file is not None else None,
            process_group=0,
        )
        logger.info("started %s (pid %d)", spec.name, popen.pid, extra={"child": spec.name, "pid": popen.pid})
        return cls(spec, popen, log_file)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def signal(self, signum: int) -> None:
        """Send ``signum`` if the child still runs."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signum)

    def close_log(self) -> None:
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def describe_exit(code: int | None) -> str:
    """``exit status 3`` / ``killed by SIGKILL`` / ``running``."""
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Supervisor:
    """Starts children, notices the first one that dies, stops them all (SIGTERM, then SIGKILL)."""

    def __init__(self) -> None:
        self.children: list[ChildProcess] = []

    def start(self, spec: ChildSpec) -> ChildProcess:
        child = ChildProcess.start(spec)
        self.children.append(child)
        return child

    def dead(self) -> list[ChildProcess]:
        """Children that exited although nobody asked them to."""
        return [child for child in self.children if not child.stopping and child.returncode is not None]

    async def wait_for_failure(self, stop: asyncio.Event, poll: float = 0.2) -> ChildProcess | None:
        """Return the first child that died unexpectedly, or None once ``stop`` is set."""
        while not stop.is_set():
            dead = self.dead()
            if dead:
                return dead[0]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
        return None

    async def stop_all(self, grace: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every child at once, SIGKILL those still alive after ``grace`` s; their exit codes."""
        for child in self.children:
            child.stopping = True
            child.signal(signal.SIGTERM)
        await asyncio.gather(*(_wait(child, grace) for child in self.children))
        for child in self.children:
            if child.returncode is None:
                logger.warning("%s did not stop within %.0f s; killing it", child.name, grace)
                child.signal(signal.SIGKILL)
        await asyncio.gather(*(_wait(child, 10) for child in self.children))
        for child in self.children:
            child.close_log()
        return {child.name: child.returncode for child in self.children}


async def _wait(child: ChildProcess, seconds: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(child.popen.wait, seconds)


# -- gws-bridge run -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` (required) and how many of each role."""
    parser.add_argument("--config", metavar="FILE", required=True, help="TOML configuration file")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="tasks each worker runs at once (default 4)"
    )
    parser.add_argument("--subscribers", type=int, default=1, help="subscriber processes (default 1)")
    parser.add_argument("--no-receiver", action="store_true", help="do not run the command receiver")
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT",
        help="first worker serves Prometheus metrics on PORT, the next on PORT+1, …",
    )  # fmt: skip
    parser.add_argument(
        "--grace", type=float, default=30.0, metavar="SECONDS",
        help="seconds children get to stop after SIGTERM before SIGKILL (default 30)",
    )  # fmt: skip


def node_children(
    config: str,
    *,
    workers: int = 1,
    concurrency: int = 4,
    subscribers: int = 1,
    receiver: bool = True,
    metrics_port: int | None = None,
    log_level: str = "INFO",
) -> list[ChildSpec]:
    """The children of one node for ``config`` (subscribers first, then workers, then the receiver)."""
    host = socket.gethostname()
    specs = [
        ChildSpec(
            f"subscriber-{n}", bridge_command("subscriber", "--config", config, "--log-level", log_level)
        )
        for n in range(1, subscribers + 1)
    ]
    for n in range(1, workers + 1):
        args = ["--config", config, "--hostname", f"gwsb-{host}-{os.getpid()}-w{n}"]
        args += ["--concurrency", str(concurrency), "--log-level", log_level]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port + n - 1)]
        specs.append(ChildSpec(f"worker-{n}", bridge_command("worker", *args)))
    if receiver:
        specs.append(
            ChildSpec("receiver", bridge_command("receiver", "--config", config, "--log-level", log_level))
        )
    return specs


def _check_config(args: argparse.Namespace) -> None:
    """Fail before starting anything: the same checks each child makes at start-up."""
    from bridge.delivery.validation import delivery_config_problems
    from bridge.settings import load_settings

    if args.workers < 1 or args.subscribers < 0 or args.concurrency < 1:
        raise ConfigError("--workers and --concurrency must be >= 1, --subscribers >= 0")
    settings = load_settings(args.config)
    problems = delivery_config_problems(settings)
    if problems:
        raise ConfigError("\n".join(f"{args.config}: {problem}" for problem in problems))
    if args.subscribers and not settings.agents:
        raise ConfigError(f"{args.config}: no [[agents]] configured for the subscriber")


async def run(args: argparse.Namespace) -> int:
    """Supervise the node until SIGTERM/SIGINT (0) or until a child dies (1); 2 on a configuration error."""
    try:
        _check_config(args)
    except ConfigError as exc:
        print(f"gws-bridge run: {exc}", file=sys.stderr)
        return 2
    specs = node_children(
        args.config,
        workers=args.workers,
        concurrency=args.concurrency,
        subscribers=args.subscribers,
        receiver=not args.no_receiver,
        metrics_port=args.metrics_port,
        log_level=args.log_level.upper(),
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    supervisor = Supervisor()
    failed: ChildProcess | None = None
    try:
        for spec in specs:
            supervisor.start(spec)
        logger.info("node running: %s", ", ".join(spec.name for spec in specs))
        failed = await supervisor.wait_for_failure(stop)
        if failed is not None:
            logger.error(
                "%s stopped unexpectedly (%s); stopping the node",
                failed.name,
                describe_exit(failed.returncode),
                extra={"child": failed.name, "returncode": failed.returncode},
            )
        else:
            logger.info("stopping the node")
    finally:
        codes = await supervisor.stop_all(args.grace)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    logger.info(
        "node stopped: %s", ", ".join(f"{name} {describe_exit(code)}" for name, code in codes.items())
    )
    return 1 if failed is not None else 0
