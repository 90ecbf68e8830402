"""The whole pipeline on loopback, for the end-to-end and fault tests.

``bridge_stack`` is a factory fixture: ``stack = await bridge_stack(agents=4)`` starts the
simulator as a ``gws-bridge simulate`` process and a signature-verifying CRM sink, and
writes one configuration (Redis, GWS, agents, a webhook destination ordered per subject,
every event routed to it, an inbound client). The test then starts the bridge processes it
wants — ``stack.start_subscriber()``, ``stack.start_worker()``, ``stack.start_receiver()`` —
all real ``gws-bridge`` processes, all stopped at the end (SIGTERM, then SIGKILL).

The sink verifies every request with the ``standardwebhooks`` reference library, answers
401 to a bad signature and records everything it answered 2xx; it can be stopped and
started again on the same port (``await stack.sink.stop()`` / ``start()``).
:func:`check_calls` holds the assertions every test makes about simulated calls.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from bridge.config.inbound import hash_api_key
from bridge.processes.supervisor import ChildProcess, ChildSpec, bridge_command
from tests.plugins.delivery import to_toml
from tests.plugins.e2e_checks import (
    CALL_FLOW,
    CallReport,
    Delivered,
    VerifyingSink,
    call_report,
    check_calls,
)
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle

__all__ = ["BridgeStack", "CallReport", "Delivered", "VerifyingSink", "check_calls"]

REPO = Path(__file__).resolve().parents[2]
# what bridge.gws.session logs once an agent's session has subscribed and recovered its state
_RECOVERED = re.compile(r"agent (\S+) state recovered")

# Retries that outlast a few seconds of sink outage (≈ 25 s in all) and a short visibility
# timeout, so a SIGKILLed worker's task comes back within the test.
E2E_DELIVERY = {
    "retry_schedule": [0.2, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0],
    "retry_jitter": 0.0,
    "task_deadline": 4.0,
    "visibility_timeout": 8.0,
    "retry_poll_interval": 0.05,
    "retry_claim_lease": 5.0,
    "batch_size": 50,
}


class BridgeStack:
    """A simulator process, a sink, a configuration, and the bridge processes a test starts."""

    def __init__(self, sim: SimulatorHandle, redis_url: str, sink: VerifyingSink, tmp_path: Path) -> None:
        self.sim = sim
        self.redis_url = redis_url
        self.sink = sink
        self.tmp_path = tmp_path
        self.api_key = secrets.token_urlsafe(16)
        self.viewer_key, self.operator_key = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.receiver_port = free_port()
        self.console_port = free_port()
        self.children: list[ChildProcess] = []
        self.node_ports: dict[int, int] = {}  # pid of a ``gws-bridge run`` → its receiver's port
        self.env: dict[str, str] = {}  # added to the children's environment (secret references)
        self.redis_sentinel: dict[str, Any] | None = None  # [redis_sentinel] in every configuration
        self.config = tmp_path / "bridge.toml"
        self.write_config()

    def write_config(
        self,
        *,
        destinations: list[dict[str, Any]] | None = None,
        routes: list[dict[str, Any]] | None = None,
        console: dict[str, Any] | None = None,
        path: Path | None = None,
        receiver_port: int | None = None,
        subscriber: dict[str, Any] | None = None,
        statistics: list[dict[str, Any]] | None = None,
        inbound: dict[str, Any] | None = None,
        **delivery: Any,
    ) -> None:
        """(Re)write the configuration: the ``crm`` webhook plus ``destinations``; ``routes`` replace
        the default (everything to ``crm``); ``delivery`` overrides :data:`E2E_DELIVERY`. ``path``
        (default :attr:`config`), ``receiver_port`` and ``subscriber`` (``[subscriber]``) serve a
        second node's configuration; ``statistics`` the ``[[statistics]]`` objects; ``inbound`` is
        added to ``[inbound]`` (``{"slack": {…}}`` for ``[inbound.slack]``)."""
        config = {
            "redis_url": self.redis_url,
            "gws": {"base_url": self.sim.base_url, "request_timeout": 5.0},
            "agents": [{"username": agent, "password": self.sim.password} for agent in self.sim.agents],
            "delivery": {**E2E_DELIVERY, **delivery},
            "destinations": [
                {"name": "crm", "kind": "webhook", "url": self.sink.url, "secrets": [self.sink.secret],
                 "timeout": 2.0, "ordered": True},
                *(destinations or []),
            ],
            "routes": routes or [{"events": ["*"], "destinations": ["crm"]}],
            "inbound": {
                "host": "127.0.0.1", "port": receiver_port or self.receiver_port, "outcome_timeout": 5.0,
                "clients": [{"name": "crm", "api_key_hashes": [hash_api_key(self.api_key)], "agents": ["*"]}],
                **(inbound or {}),
            },
            "console": {
                "host": "127.0.0.1", "port": self.console_port, "agent_status_interval": 1.0,
                "keys": [
                    {"name": "vera", "role": "viewer", "api_key_hash": hash_api_key(self.viewer_key)},
                    {"name": "otto", "role": "operator", "api_key_hash": hash_api_key(self.operator_key)},
                ],
                **(console or {}),
            },
        }  # fmt: skip
        if self.redis_sentinel is not None:
            config["redis_sentinel"] = self.redis_sentinel
        if subscriber is not None:
            config["subscriber"] = subscriber
        if statistics is not None:
            config["statistics"] = statistics
        (path or self.config).write_text(to_toml(config), encoding="utf-8")

    def _start(self, name: str, *args: str, subcommand: str | None = None) -> ChildProcess:
        log = self.tmp_path / f"{name}-{len(self.children)}.log"
        argv = bridge_command(subcommand or name, *args)
        child = ChildProcess.start(ChildSpec(name, argv, env=self.env, log=log))
        self.children.append(child)
        return child

    def start_node(self, *, lease_ttl: float) -> ChildProcess:
        """``gws-bridge run``: a whole node (a subscriber, a worker, a receiver on a port of its own)."""
        port = free_port()
        config = self.tmp_path / f"node-{len(self.children)}.toml"
        self.write_config(
            path=config, receiver_port=port, subscriber={"lease_ttl": lease_ttl, "status_interval": 0}
        )
        child = self._start(
            "node", "--config", str(config), "--workers", "1", "--grace", "5", "--log-level", "INFO",
            subcommand="run",
        )  # fmt: skip
        self.node_ports[child.pid] = port
        return child

    def start_subscriber(self, *, lease_ttl: float = 15.0) -> ChildProcess:
        """``gws-bridge subscriber`` holding (its share of) every agent."""
        return self._start(
            "subscriber", "--config", str(self.config), "--lease-ttl", str(lease_ttl),
            "--status-interval", "0", "--log-level", "INFO",
        )  # fmt: skip

    def start_worker(self, *, concurrency: int = 4) -> ChildProcess:
        """``gws-bridge worker``; :meth:`wait_worker` blocks until it polls."""
        child = self._start(
            "worker", "--config", str(self.config), "--concurrency", str(concurrency),
            "--hostname", f"e2e-{len(self.children)}", "--log-level", "WARNING",
        )  # fmt: skip
        return child

    def worker_ready(self, child: ChildProcess) -> bool:
        hostname = child.spec.argv[list(child.spec.argv).index("--hostname") + 1]
        client = redis.Redis.from_url(self.redis_url)
        try:
            return bool(client.exists(f"gwsb:worker:{hostname}"))
        finally:
            client.close()

    def start_receiver(self) -> ChildProcess:
        return self._start("receiver", "--config", str(self.config), "--log-level", "WARNING")

    def start_console(self) -> ChildProcess:
        """``gws-bridge console`` on :attr:`console_url`; :meth:`wait_ready` waits for it."""
        return self._start("console", "--config", str(self.config), "--log-level", "INFO")

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    async def console_healthy(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"{self.console_url}/healthz") as reply,
            ):
                return reply.status == 200
        except aiohttp.ClientError:
            return False

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}"

    async def command(self, agent: str, action: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """POST ``/v1/commands`` as the configured client; ``(status, body)``."""
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": secrets.token_hex(8)}
        body = {"agent": agent, "action": action, "params": params}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
            http.post(f"{self.receiver_url}/v1/commands", json=body, headers=headers) as reply,
        ):
            return reply.status, await reply.json(content_type=None)

    async def wait_until(
        self,
        what: str,
        check: Callable[[], Awaitable[bool] | bool],
        within: float,
        explain: Callable[[], str] | None = None,
    ) -> None:
        """Poll ``check`` every 0.1 s; fail with the children's logs after ``within`` s or if one died."""
        deadline = time.monotonic() + within
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            dead = [c for c in self.children if not c.stopping and c.returncode is not None]
            if dead or time.monotonic() > deadline:
                detail = explain() if explain is not None else ""
                pytest.fail(
                    f"{'child died' if dead else 'timed out'} waiting for {what}\n{detail}\n{self.logs()}"
                )
            await asyncio.sleep(0.1)

    async def wait_ready(self, *, agents: int | None = None, within: float = 40.0) -> None:
        """Every started worker polls, the receiver answers, ``agents`` CometD clients are connected
        and, with a subscriber started, that many agents' sessions have subscribed and recovered
        (a client exists from its handshake on, before its subscriptions)."""
        expected = len(self.sim.agents) if agents is None else agents
        for child in self.children:
            if child.name == "worker":
                await self.wait_until(f"{child.name} to poll", lambda c=child: self.worker_ready(c), within)
            elif child.name == "receiver":
                await self.wait_until("the receiver", self.receiver_healthy, within)
            elif child.name == "console":
                await self.wait_until("the console", self.console_healthy, within)
            elif child.name == "node":
                url = f"http://127.0.0.1:{self.node_ports[child.pid]}"
                await self.wait_until("a node's receiver", lambda u=url: self.receiver_healthy(u), within)

        async def connected() -> bool:
            return int((await self.sim.status())["cometdClients"]) >= expected

        await self.wait_until(f"{expected} CometD clients", connected, within)
        if any(child.name in ("subscriber", "node") for child in self.children):
            caught_up = lambda: len(self.recovered_agents()) >= expected  # noqa: E731
            await self.wait_until(f"{expected} agent sessions caught up", caught_up, within)

    def recovered_agents(self) -> set[str]:
        """Agents whose session logged its first state recovery (it is subscribed by then)."""
        found: set[str] = set()
        for child in self.children:
            if (
                child.name in ("subscriber", "node")
                and child.spec.log is not None
                and child.spec.log.exists()
            ):
                found.update(_RECOVERED.findall(child.spec.log.read_text(errors="replace")))
        return found

    def lease_holders(self) -> dict[str, int]:
        """agent -> pid of the subscriber holding its lease (owner tokens are ``host:pid:random``)."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            holders = {}
            for agent in self.sim.agents:
                owner = client.get(f"gwsb:lease:agent:{agent}")
                if owner is not None:
                    holders[agent] = int(owner.decode().split(":")[-2])
            return holders
        finally:
            client.close()

    @staticmethod
    def recovered_agents_in(log: Path, offset: int = 0) -> set[str]:
        """Agents whose state recovery ``log`` records after byte ``offset``."""
        with log.open("rb") as file:
            file.seek(offset)
            return set(_RECOVERED.findall(file.read().decode(errors="replace")))

    async def receiver_healthy(self, url: str | None = None) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"{url or self.receiver_url}/healthz") as reply,
            ):
                return reply.status == 200
        except aiohttp.ClientError:
            return False

    async def run_load(self, *, agents: int, calls_per_second: float, seconds: float) -> str:
        return await self.sim.start_load(agents, calls_per_second, seconds)

    async def wait_load(self, load_id: str, within: float) -> dict[str, Any]:
        """The load's final progress report, once it stopped running."""
        deadline = time.monotonic() + within
        while True:
            progress = await self.sim.load_progress(load_id)
            if not progress["running"]:
                return progress
            if time.monotonic() > deadline:
                pytest.fail(f"load {load_id} still running after {within}s: {progress}")
            await asyncio.sleep(0.2)

    async def wait_calls_delivered(self, calls: int, within: float, *, released_only: bool = False) -> None:
        """Until ``calls`` call subjects have all four events (or ``call.released``), at most ``within`` s."""

        def incomplete() -> str:
            report = call_report(self.sink)
            partial = {
                subject: [(i.type, i.sequence) for i in items]
                for subject, items in report.calls.items()
                if [i.type for i in items] != CALL_FLOW
            }
            return f"{report.complete()} complete of {len(report.calls)} calls seen; incomplete: {partial}"

        await self.wait_until(
            f"{calls} complete calls at the sink",
            lambda: (
                (
                    len(self.sink.of_type("call.released"))
                    if released_only
                    else call_report(self.sink).complete()
                )
                >= calls
            ),
            within,
            incomplete,
        )
        await asyncio.sleep(1.0)  # anything still in flight (a duplicate would arrive now)

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for child in self.children:
            if child.spec.log is not None and child.spec.log.exists():
                text = child.spec.log.read_text(errors="replace")[-tail:]
                parts.append(f"--- {child.name} pid {child.pid} ({child.returncode}) ---\n{text}")
        return "\n".join(parts)

    def stop_children(self) -> None:
        for child in self.children:
            child.stopping = True
            child.signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.popen.wait(timeout=15)
            except Exception:
                child.signal(signal.SIGKILL)
                child.popen.wait(timeout=10)
            child.close_log()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
async def bridge_stack(
    redis_url: str, tmp_path: Path, simulator_process_factory: Callable[..., SimulatorHandle]
) -> AsyncIterator[Callable[..., Awaitable[BridgeStack]]]:
    """``await bridge_stack(agents=4, redis_url=None)`` → a :class:`BridgeStack`; everything stops after."""
    stacks: list[BridgeStack] = []

    async def factory(*, agents: int = 4, redis_url_override: str | None = None) -> BridgeStack:
        sim = simulator_process_factory(agents=agents)
        sink = VerifyingSink(new_secret())
        await sink.start()
        stack = BridgeStack(sim, redis_url_override or redis_url, sink, tmp_path)
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        await asyncio.to_thread(stack.stop_children)
        await stack.sink.stop()


@pytest.fixture
def e2e_repo() -> Iterator[Path]:
    """The repository root (for tests that read Dockerfile, docker-compose.yml, …)."""
    yield REPO
