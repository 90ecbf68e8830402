"""The GWS simulator for tests: in-process on the test's loop, or as a ``gws-bridge simulate`` process.

Fixtures:

- ``simulator``: an in-process simulator on ``127.0.0.1:<free port>``, 5 agents
  (``agent0001``… / ``password``, DNs 5001…), CSRF on, notifications recorded. Yields a
  :class:`SimulatorHandle`.
- ``simulator_factory``: ``await simulator_factory(agents=50, csrf=False, session_idle_timeout=1)``
  for other configurations (any :class:`~simulator.app.SimulatorConfig` field); all stop at the end.
- ``simulator_process``: ``gws-bridge simulate`` in a subprocess on a free port (5 agents); the
  handle's ``process`` can ``stop()``, ``kill()`` and ``start()`` it again on the same port.
  ``simulator_process_factory(agents=…, csrf=…)`` starts more.

Every handle's helpers speak to the ``/sim`` control API over HTTP, so they work the same for
both kinds; an in-process handle also exposes the live ``Simulator`` as ``handle.sim``.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from simulator.app import Simulator, SimulatorConfig, create_app
from tests.plugins.ports import free_port

__all__ = ["AgentClient", "SimulatorHandle", "SimulatorProcess", "start_in_process"]

_ROOT = Path(__file__).resolve().parents[2]


class AgentClient:
    """A raw HTTP client for one agent, as a GWS client would be: Basic auth on the first request,
    then the ``JSESSIONID`` cookie and the CSRF token from the replies.

    ``async with handle.agent_client("agent0001") as client: status, body = await client.post(...)``.
    Paths are relative to ``/api/v2``.
    """

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base_url = base_url
        self.user = user
        self.password = password
        self.csrf_token: str | None = None
        self.session: aiohttp.ClientSession | None = None
        self.send_basic = True

    async def __aenter__(self) -> AgentClient:
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=10)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    def basic_header(self) -> str:
        return aiohttp.encode_basic_auth(self.user, self.password)

    async def request(
        self, method: str, path: str, body: Any = None, *, basic: bool | None = None, csrf: bool = True
    ) -> tuple[int, Any]:
        """``(HTTP status, parsed JSON body)``; remembers the CSRF token a reply carries."""
        assert self.session is not None, "use 'async with'"
        headers: dict[str, str] = {}
        if basic if basic is not None else self.send_basic:
            headers["Authorization"] = self.basic_header()
        if csrf and self.csrf_token is not None and method != "GET":
            headers["X-CSRF-TOKEN"] = self.csrf_token
        url = f"{self.base_url}/api/v2{path}"
        async with self.session.request(method, url, json=body, headers=headers) as response:
            token = response.headers.get("X-CSRF-TOKEN")
            if token is not None:
                self.csrf_token = token
            payload = await response.json(content_type=None) if await response.read() else None
            return response.status, payload

    async def login(self) -> dict[str, Any]:
        """``GET /me`` with Basic auth; afterwards only the session cookie is sent."""
        status, body = await self.request("GET", "/me", basic=True)
        assert status == 200, (status, body)
        self.send_basic = False
        result: dict[str, Any] = body
        return result

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.request("GET", path)

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.request("POST", path, body)


@dataclass
class SimulatorHandle:
    """A running simulator: where it is, who its agents are, and control helpers (all async)."""

    base_url: str
    agents: list[str]
    password: str = "password"
    sim: Simulator | None = None
    process: SimulatorProcess | None = None
    dns: dict[str, str] = field(default_factory=dict)

    @property
    def notifications_url(self) -> str:
        return f"{self.base_url}/api/v2/notifications"

    def agent_client(self, user: str, password: str | None = None) -> AgentClient:
        """An :class:`AgentClient` for ``user`` (use with ``async with``)."""
        return AgentClient(self.base_url, user, password or self.password)

    async def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, f"{self.base_url}{path}", json=body) as response,
        ):
            payload = await response.json()
            if response.status >= 400:
                raise AssertionError(f"{method} {path} -> {response.status}: {payload}")
            return payload

    async def start_call(
        self, to: str, from_: str = "5551234", user_data: dict[str, Any] | None = None
    ) -> str:
        """Ring an inbound call on agent ``to`` (user name or DN); returns the call id."""
        body: dict[str, Any] = {"to": to, "from": from_}
        if user_data is not None:
            body["userData"] = user_data
        reply = await self._control("POST", "/sim/calls", body)
        return str(reply["id"])

    async def release_call(self, call_id: str) -> None:
        """Remote hang-up."""
        await self._control("POST", f"/sim/calls/{call_id}/release")

    async def send_interaction(
        self,
        to: str,
        channel: str,
        subject: str = "Hello",
        text: str = "Hello, I need help",
        user_data: dict[str, Any] | None = None,
    ) -> str:
        """Offer an e-mail or chat to ``to``; returns the interaction id."""
        body: dict[str, Any] = {"to": to, "channel": channel, "subject": subject, "text": text}
        if user_data is not None:
            body["userData"] = user_data
        reply = await self._control("POST", "/sim/interactions", body)
        return str(reply["id"])

    async def chat_message(self, interaction_id: str, text: str) -> int:
        """A customer chat line; returns its transcript event id."""
        reply = await self._control("POST", f"/sim/chat/{interaction_id}/messages", {"text": text})
        return int(reply["eventId"])

    async def set_service(self, service_type: str, state: str) -> None:
        await self._control("POST", f"/sim/services/{service_type}", {"state": state})

    async def disconnect_cometd(self, *, refuse_for: float = 0.0) -> int:
        """Drop every CometD client (they must re-handshake); returns how many.

        ``refuse_for``: every Bayeux request gets HTTP 503 for that many seconds first.
        """
        body = {"refuseFor": refuse_for} if refuse_for else None
        reply = await self._control("POST", "/sim/disconnect", body)
        return int(reply["cometdClients"])

    async def restart(self) -> None:
        """Forget all HTTP sessions and drop CometD clients, like a GWS node restart."""
        await self._control("POST", "/sim/restart")

    async def log(self, clear: bool = False, agent: str | None = None) -> list[dict[str, Any]]:
        """REST requests received (agent, method, path, query, body, time); ``clear`` empties it after."""
        path = "/sim/log" if agent is None else f"/sim/log?agent={agent}"
        entries: list[dict[str, Any]] = (await self._control("GET", path))["entries"]
        if clear:
            await self._control("DELETE", "/sim/log")
        return entries

    async def logins(self) -> list[tuple[float, str]]:
        """``(wall-clock time, agent)`` of every log-in GWS saw, oldest first."""
        reply = await self._control("GET", "/sim/logins")
        return [(float(item["time"]), str(item["agent"])) for item in reply["logins"]]

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("GET", "/sim/status")
        return result

    async def start_load(self, agents: int, calls_per_second: float, seconds: float) -> str:
        reply = await self._control(
            "POST", "/sim/load", {"agents": agents, "calls_per_second": calls_per_second, "seconds": seconds}
        )
        return str(reply["id"])

    async def load_progress(self, load_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("GET", f"/sim/load/{load_id}")
        return result

    def notifications(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """What the in-process simulator published (``{"channel", "data"}``), oldest first."""
        if self.sim is None:
            raise RuntimeError("notifications are recorded only by the in-process simulator")
        return self.sim.notifications(user, channel)

    async def wait_for_notification(
        self, predicate: Callable[[dict[str, Any]], bool], *, user: str | None = None, within: float = 5.0
    ) -> dict[str, Any]:
        """The first recorded notification matching ``predicate``, waiting up to ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            for item in self.notifications(user):
                if predicate(item):
                    return item
            if time.monotonic() > deadline:
                raise AssertionError("no matching notification within timeout")
            await asyncio.sleep(0.01)


async def start_in_process(
    ssl_context: ssl.SSLContext | None = None, **overrides: Any
) -> tuple[SimulatorHandle, web.AppRunner]:
    """An in-process simulator (HTTPS with ``ssl_context``) and its runner, which the caller cleans up."""
    known = {f.name for f in fields(SimulatorConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown SimulatorConfig fields: {sorted(unknown)}")
    port = free_port()
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "record_notifications": True}
    settings.update(overrides)
    config = SimulatorConfig(**settings)
    sim = Simulator(config)
    app = create_app(config, sim)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=ssl_context)
    await site.start()
    agents = sorted(sim.state.users)
    handle = SimulatorHandle(
        base_url=config.url().replace("http://", "https://") if ssl_context else config.url(),
        agents=agents,
        sim=sim,
        dns={name: sim.state.users[name].device.phone_number for name in agents},
    )
    return handle, runner


@pytest.fixture
async def simulator() -> AsyncIterator[SimulatorHandle]:
    """In-process simulator: 5 agents, CSRF on, notifications recorded."""
    handle, runner = await start_in_process()
    try:
        yield handle
    finally:
        await runner.cleanup()


@pytest.fixture
async def simulator_factory() -> AsyncIterator[Callable[..., Awaitable[SimulatorHandle]]]:
    """``await simulator_factory(**SimulatorConfig fields)``; every simulator stops at the end."""
    runners: list[web.AppRunner] = []

    async def factory(**overrides: Any) -> SimulatorHandle:
        handle, runner = await start_in_process(**overrides)
        runners.append(runner)
        return handle

    try:
        yield factory
    finally:
        for runner in runners:
            await runner.cleanup()


class SimulatorProcess:
    """``gws-bridge simulate`` as a child process on a fixed free port."""

    def __init__(self, *, agents: int = 5, csrf: bool = True, extra_args: list[str] | None = None) -> None:
        self.port = free_port()
        self.agents = agents
        self.csrf = csrf
        self.extra_args = list(extra_args or [])
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start and wait until ``/api/v2/diagnostics/version`` answers."""
        args = [
            sys.executable, "-m", "bridge.cli", "simulate",
            "--host", "127.0.0.1", "--port", str(self.port), "--agents", str(self.agents),
            "--log-level", "WARNING", *self.extra_args,
        ]  # fmt: skip
        if not self.csrf:
            args.append("--no-csrf")
        env = {**os.environ, "PYTHONPATH": str(_ROOT)}
        self.popen = subprocess.Popen(
            args, cwd=_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/api/v2/diagnostics/version"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if self.popen.poll() is not None:
                stderr = self.popen.stderr.read().decode() if self.popen.stderr else ""
                raise RuntimeError(f"simulator exited with {self.popen.returncode}: {stderr[-2000:]}")
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError(f"simulator did not answer on {url} within {timeout}s")
            time.sleep(0.05)

    def stop(self, *, kill: bool = False) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            if kill:
                self.popen.kill()
            else:
                self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        if self.popen.stderr is not None:
            self.popen.stderr.close()
        self.popen = None

    def kill(self) -> None:
        self.stop(kill=True)

    def handle(self) -> SimulatorHandle:
        agents = [f"agent{i:04d}" for i in range(1, self.agents + 1)]
        dns = {name: str(5000 + i) for i, name in enumerate(agents, start=1)}
        return SimulatorHandle(base_url=self.base_url, agents=agents, process=self, dns=dns)


@pytest.fixture
def simulator_process_factory() -> Iterator[Callable[..., SimulatorHandle]]:
    """``simulator_process_factory(agents=…, csrf=…, extra_args=[…])`` → a started process's handle."""
    started: list[SimulatorProcess] = []

    def factory(**kwargs: Any) -> SimulatorHandle:
        process = SimulatorProcess(**kwargs)
        started.append(process)
        process.start()
        return process.handle()

    yield factory
    for process in started:
        process.stop()


@pytest.fixture
def simulator_process(simulator_process_factory: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    """``gws-bridge simulate`` in a subprocess (5 agents, CSRF on); killed after the test."""
    return simulator_process_factory()
