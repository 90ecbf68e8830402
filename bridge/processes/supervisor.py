"""Child processes under supervision: what ``gws-bridge run``, the demo and the tests start.

Each role is the ordinary subcommand (``gws-bridge subscriber|worker|receiver --config FILE``)
in its own child process, so a crash in one cannot corrupt the others and each keeps its own
event loop. Children run in their own process group (a terminal's Ctrl-C reaches only the
parent, which stops them in order) and get SIGTERM from the kernel if the parent dies
(``PR_SET_PDEATHSIG`` on Linux), so no child outlives its parent, whatever happens to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["ChildProcess", "ChildSpec", "Supervisor", "bridge_command", "describe_exit"]

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
