"""What ``gws-bridge demo`` runs on: an embedded Redis and a generated configuration.

The demo needs Redis for everything the bridge keeps (the Celery broker, the retry schedule,
FIFO queues, leases, agent state, idempotency records). Without a ``--redis-url`` it starts
a private ``redis-server`` on a free loopback port: no persistence, a temporary directory,
stopped at exit (and by the kernel if the demo dies, like every other demo child).

There is no in-process fallback: Celery's ``memory`` transport would carry tasks only
inside one process, but the delivery layer, the subscriber's leases and the receiver all
use Redis directly (redis-py), so without a Redis server nothing would be delivered.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bridge.config.console import DEFAULT_CONSOLE_PORT
from bridge.errors import ConfigError
from bridge.processes.supervisor import ChildProcess, ChildSpec
from bridge.redis_client import async_redis

__all__ = ["DemoConfig", "EmbeddedRedis", "free_port", "redact_url", "render_config", "wait_for_redis"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redact_url(url: str) -> str:
    """``url`` without its password (a Redis URL may carry one), for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def wait_for_redis(url: str, within: float) -> None:
    """Return once ``url`` answers PING; raises ``ConfigError`` after ``within`` seconds."""
    client = async_redis(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + within
    try:
        while True:
            try:
                if await client.ping():
                    return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"Redis at {redact_url(url)} does not answer: {type(exc).__name__}"
                    ) from exc
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


class EmbeddedRedis:
    """A private ``redis-server`` child: loopback, free port, nothing written to disk."""

    def __init__(self, directory: Path | None = None) -> None:
        """``directory``: where its files and log go (the caller removes it); default a temporary
        directory of its own, removed by :meth:`stop`."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ConfigError(
                "no Redis: redis-server is not on PATH and no --redis-url / REDIS_URL was given. "
                "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) "
                "or point the demo at a Redis with --redis-url redis://HOST:6379/0"
            )
        self.binary = binary
        self.port = free_port()
        self._owned: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._owned = tempfile.TemporaryDirectory(prefix="gwsb-demo-redis-")
            directory = Path(self._owned.name)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory: Path = directory
        self.child: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start and wait until it answers (10 s); raises ``ConfigError`` if it does not."""
        argv = [
            self.binary,
            "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "no",
            "--dir", str(self.directory), "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        self.child = ChildProcess.start(ChildSpec("redis-server", argv, log=self.directory / "redis.log"))
        await wait_for_redis(self.url, 10.0)

    def stop(self) -> None:
        if self.child is not None:
            self.child.popen.terminate()
            try:
                self.child.popen.wait(timeout=10)
            except Exception:
                self.child.popen.kill()
                self.child.popen.wait(timeout=10)
            self.child.close_log()
            self.child = None
        if self._owned is not None:
            self._owned.cleanup()


@dataclass(frozen=True)
class DemoConfig:
    """The values the demo's configuration file is made of (no secret values: env references)."""

    redis_url: str
    gws_url: str
    agents: list[str]
    sink_url: str
    receiver_port: int
    api_key_hash: str
    password_env: str
    secret_env: str
    console_port: int = DEFAULT_CONSOLE_PORT
    console_key_hashes: tuple[str, str] | None = None  # (viewer, operator)


def _q(value: str) -> str:
    return json.dumps(value)


def render_config(config: DemoConfig) -> str:
    """The demo's TOML: every event to the CRM webhook (ordered per call), quick retries, one client,
    the simulator's queue ``VQ_Support`` read every second."""
    lines = [
        f"redis_url = {_q(config.redis_url)}",
        "",
        "[gws]",
        f"base_url = {_q(config.gws_url)}",
        "",
        "[normalizer]",
        'source = "gws-bridge-demo"',
        "",
        "[delivery]",
        "retry_schedule = [1.0, 2.0, 5.0, 10.0, 30.0]",
        "retry_jitter = 0.1",
        "task_deadline = 10.0",
        "visibility_timeout = 30.0",
        "retry_poll_interval = 0.2",
        "batch_size = 50",
        "",
        "[inbound]",
        'host = "127.0.0.1"',
        f"port = {config.receiver_port}",
        "outcome_timeout = 5.0",
        "",
        "[[inbound.clients]]",
        'name = "crm"',
        f"api_key_hashes = [{_q(config.api_key_hash)}]",
        'agents = ["*"]',
        "",
        "[[destinations]]",
        'name = "crm"',
        'kind = "webhook"',
        f"url = {_q(config.sink_url)}",
        f"secrets = [{_q('env:' + config.secret_env)}]",
        "timeout = 5.0",
        "ordered = true",
        "",
        "[[routes]]",
        'events = ["*"]',
        'destinations = ["crm"]',
        "",
        # the simulator's queue: every call it rings waits there until answered
        "[[statistics]]",
        'object_id = "VQ_Support"',
        'name = "Support"',
        "interval = 1",
        'statistics = ["Current_In_Queue", "CurrMaxCallWaitingTime", "ServiceLevel", "Total_Answered",'
        ' "Total_Abandoned", "CurrentReadyAgents"]',
        'thresholds = ["Current_In_Queue > 5 hysteresis 3"]',
        "",
        "[console]",
        'host = "127.0.0.1"',
        f"port = {config.console_port}",
        "agent_status_interval = 2.0",
        'masked_keys = ["CreditCard"]',
    ]
    if config.console_key_hashes is not None:
        for name, role, key_hash in zip(
            ("demo-viewer", "demo-operator"), ("viewer", "operator"), config.console_key_hashes, strict=True
        ):
            lines += ["", "[[console.keys]]", f"name = {_q(name)}", f"role = {_q(role)}",
                      f"api_key_hash = {_q(key_hash)}"]  # fmt: skip
    for agent in config.agents:
        lines += ["", "[[agents]]", f"username = {_q(agent)}", f"password_env = {_q(config.password_env)}"]
    return "\n".join(lines) + "\n"
