"""The simulator with a Bayeux client the project did not write: the official CometD JavaScript
client (npm ``cometd`` + ``cometd-nodejs-client``, pinned in ``node/package-lock.json``) under
Node, with its default settings, over both transports.

``node/gws_agent.mjs`` is an agent desktop as GWS's client sample builds one: REST login, the
session cookie and the CSRF token, CometD configured with only the URL and the CSRF header,
``/v2/me/*``. ``make setup`` installs the packages (``npm ci``); without Node these tests are
skipped, saying so.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.plugins.simulator import SimulatorHandle

CLIENT_DIR = Path(__file__).resolve().parent / "node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="Node.js is not installed: the CometD JavaScript interop tests need `node` and `npm` "
    "(`make setup` installs Debian's nodejs and npm when run as root)",
)


@pytest.fixture(scope="module")
def client_installed() -> None:
    if not (CLIENT_DIR / "node_modules" / "cometd" / "package.json").is_file():
        pytest.fail(
            "the CometD JavaScript client is not installed: run `make setup` (npm ci in tests/interop/node)"
        )


class JsAgent:
    """``gws_agent.mjs`` as a child process; its stdout is one JSON event per line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, handle: SimulatorHandle, user: str, transport: str, *flags: str) -> JsAgent:
        assert NODE is not None
        process = await asyncio.create_subprocess_exec(
            NODE, "gws_agent.mjs", handle.base_url, user, handle.password, transport, *flags,
            cwd=CLIENT_DIR, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def next(self, event: str, *, within: float = 10.0) -> dict[str, Any]:
        """The next report of kind ``event`` (others skipped); fails on a ``failed`` report or exit."""
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), max(0.0, deadline - loop.time()))
            if not line:
                assert self.process.stderr is not None
                stderr = (await self.process.stderr.read()).decode(errors="replace")
                raise AssertionError(f"the client exited before {event!r}: {stderr[-2000:]}")
            report: dict[str, Any] = orjson.loads(line)
            if report["event"] == "failed":
                raise AssertionError(f"the client failed: {report}")
            if report["event"] == event:
                return report

    async def disconnect(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"disconnect\n")
        await self.process.stdin.drain()
        report = await self.next("disconnected")
        assert await asyncio.wait_for(self.process.wait(), 5) == 0
        return report

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def receive_call(agent: JsAgent, call_id: str, state: str) -> dict[str, Any]:
    for _ in range(10):
        message = await agent.next("message")
        call = message["data"].get("call") or {}
        if message["channel"] == "/v2/me/calls" and (call.get("id"), call.get("state")) == (call_id, state):
            return message
    raise AssertionError(f"no {state} notification for call {call_id}")


@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
async def test_official_cometd_client_with_default_settings_gets_a_simulated_call(
    simulator: SimulatorHandle, client_installed: None, transport: str
) -> None:
    agent = await JsAgent.start(simulator, "agent0001", transport)
    try:
        subscribed = await agent.next("subscribed")
        assert subscribed["transport"] == transport
        if transport == "long-polling":
            # The client's default appendMessageTypeToURL: /handshake, /connect… below the endpoint.
            assert {"/api/v2/notifications/handshake", "/api/v2/notifications/connect"} <= set(
                subscribed["paths"]
            )
        call_id = await simulator.start_call("agent0001", user_data={"CustomerName": "Ada"})
        ringing = await receive_call(agent, call_id, "Ringing")
        assert ringing["data"] == simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]
        assert ringing["data"]["messageType"] == "CallStateChangeMessage"
        assert ringing["data"]["call"]["userData"]["CustomerName"] == "Ada"
        await simulator.release_call(call_id)
        await receive_call(agent, call_id, "Released")
        assert (await agent.disconnect())["successful"] is True
        assert (await simulator.status())["cometdClients"] == 0
    finally:
        await agent.stop()


async def test_official_client_asking_for_acknowledgements_runs_without_them(
    simulator: SimulatorHandle, client_installed: None
) -> None:
    """GWS documents no ack extension: the handshake reply claims none, and delivery goes on."""
    agent = await JsAgent.start(simulator, "agent0002", "websocket", "--ack")
    try:
        subscribed = await agent.next("subscribed")
        assert subscribed["handshakeExt"] is None
        call_id = await simulator.start_call("agent0002")
        await receive_call(agent, call_id, "Ringing")
        await agent.disconnect()
    finally:
        await agent.stop()
