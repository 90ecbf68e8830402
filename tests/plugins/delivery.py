"""Fixtures for the delivery area: a recording webhook sink and real worker processes.

- ``webhook_sink``: an aiohttp server on loopback that records every request
  (headers, body, arrival time, the status it answered). Its ``behaviour`` is
  a function of the request and of how many times that ``webhook-id`` came
  before, so a test can answer 503 then 200, 410, 429 with Retry-After, or
  be slow.
- ``delivery_config``: writes a TOML configuration for the test Redis and sink.
- ``worker_factory``: starts real ``gws-bridge worker`` processes, waits until
  each is polling, and stops (or SIGKILLs) them; all are stopped at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp import web

from bridge.events import Event
from tests.plugins.ports import free_port

__all__ = ["Received", "Reply", "WebhookSink", "WorkerProcess", "make_event", "to_toml"]

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Reply:
    """How the sink answers one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes = b"ok"


@dataclass
class Received:
    """One request as the sink saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    nth: int  # 1 for the first request with this webhook-id
    status: int = 0

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        return json.loads(self.body)


Behaviour = Callable[[Received], Reply]


class WebhookSink:
    """A CRM stand-in: records and answers according to ``behaviour`` (default: 200)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviour: Behaviour = lambda _: Reply()
        self._seen: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        key = headers.get("webhook-id", "")
        self._seen[key] += 1
        record = Received(request.path, headers, body, time.time(), self._seen[key])
        self.received.append(record)
        reply = self.behaviour(record)
        record.status = reply.status
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def delivered(self, path: str | None = None) -> list[Received]:
        """Requests answered 2xx (optionally to one path), in arrival order."""
        return [r for r in self.received if 200 <= r.status < 300 and (path is None or r.path == path)]

    async def wait_for(self, predicate: Callable[[], bool], *, within: float, what: str = "") -> None:
        """Poll ``predicate`` until true; fail the test after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {within}s waiting for {what or predicate}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def webhook_sink() -> AsyncIterator[WebhookSink]:
    sink = WebhookSink()
    await sink.start()
    yield sink
    await sink.stop()


def to_toml(config: dict[str, Any]) -> str:
    """A TOML document for simple config dicts (top-level keys as inline values)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    return "".join(f"{key} = {value(v)}\n" for key, v in config.items() if v is not None)


FAST_DELIVERY = {
    "retry_schedule": [0.3, 0.3, 0.3],
    "retry_jitter": 0.0,
    "task_deadline": 4.0,
    "visibility_timeout": 8.0,
    "retry_poll_interval": 0.05,
    "retry_claim_lease": 5.0,
    "batch_size": 50,
}


@pytest.fixture
def delivery_config(tmp_path: Path, redis_url: str) -> Callable[..., Path]:
    """``delivery_config(destinations=[...], routes=[...], delivery={...})`` -> a TOML file path.

    ``delivery`` entries override a fast test profile (short retries, 4 s deadline);
    destinations default to a 2 s request timeout.
    """

    def write(
        *,
        destinations: list[dict[str, Any]],
        routes: list[dict[str, Any]],
        delivery: dict[str, Any] | None = None,
    ) -> Path:
        path = tmp_path / f"bridge-{uuid.uuid4().hex[:6]}.toml"
        config = {
            "redis_url": redis_url,
            "delivery": {**FAST_DELIVERY, **(delivery or {})},
            "destinations": [{"timeout": 2.0, **d} for d in destinations],
            "routes": routes,
        }
        path.write_text(to_toml(config), encoding="utf-8")
        return path

    return write


class WorkerProcess:
    """One ``gws-bridge worker`` subprocess."""

    def __init__(
        self, config: Path, redis_url: str, log: Path, *, concurrency: int = 4, extra_args: Sequence[str] = ()
    ) -> None:
        self.hostname = f"test-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "bridge.cli", "worker", "--config", str(config),
                "--hostname", self.hostname, "--concurrency", str(concurrency), "--log-level", "WARNING",
                *extra_args,
            ],
            cwd=REPO,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def wait_ready(self, timeout: float = 20.0, prefix: str = "gwsb") -> None:
        """Block until the worker's poller announced itself in Redis."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            deadline = time.monotonic() + timeout
            while not client.exists(f"{prefix}:worker:{self.hostname}"):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start; log:\n{self.log.read_text(errors='replace')}")
                time.sleep(0.05)
        finally:
            client.close()
        time.sleep(0.3)  # the consumer starts right after the runtime: let it reach BRPOP

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acks."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """Ask for a warm shutdown (SIGTERM) without waiting."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()


@pytest.fixture
def worker_factory(tmp_path: Path, redis_url: str) -> Iterator[Callable[..., WorkerProcess]]:
    """``worker_factory(config_path, concurrency=4, extra_args=())`` -> a ready worker; stopped afterwards."""
    started: list[WorkerProcess] = []

    def start(
        config: Path, *, concurrency: int = 4, ready: bool = True, extra_args: Sequence[str] = ()
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(config, redis_url, log, concurrency=concurrency, extra_args=extra_args)
        started.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:  # warm shutdowns in parallel
        worker.terminate()
    for worker in started:
        worker.stop()


def make_event(
    n: int, *, subject: str = "call/c1", type: str = "call.ringing", agent: str = "agent1", **data: Any
) -> Event:
    """A valid event with id ``evt-<n>`` and sequence ``n``."""
    return Event(
        id=f"evt-{subject}-{n}",
        source="gws-bridge/test",
        type=type,
        subject=subject,
        time=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        data={"agent": agent, "n": n, **data},
        sequence=n,
        partitionkey=agent,
    )
