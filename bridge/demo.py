"""``gws-bridge demo``: the GWS simulator, a scripted contact-center flow, and what agents receive.

Runs on a fresh machine with nothing else: the simulator starts in this process on a free
loopback port, a few agents log in over REST (Basic auth, then the ``JSESSIONID`` cookie and
the CSRF token), each opens a CometD client (aiocometd-noloop, long-polling) subscribed to
``/v2/me/*`` and ``/notifications/services``, and a script drives the simulator through its
control API and the GWS REST API: a call rings, the agent answers, data is attached, the
customer hangs up, the agent goes NotReady with a reason, an e-mail arrives and is accepted,
the voice service goes down and comes back; then more calls until ``--duration`` is over.
Every notification a CometD client receives is printed on one line, then a summary.
Ctrl-C (or SIGTERM) stops early and still prints the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiocometd_noloop
import aiohttp
from aiocometd_noloop import ConnectionType
from aiohttp import web

from simulator.app import SimulatorConfig, create_app

__all__ = ["DESCRIPTION", "add_arguments", "describe_notification", "run"]

DESCRIPTION = "run the GWS simulator with a scripted call flow and print the CometD notifications agents get"

CHANNELS = ("/v2/me/*", "/notifications/services")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds to run (default 20; Ctrl-C stops earlier)"
    )
    parser.add_argument("--agents", type=int, default=3, help="agents that log in and listen (default 3)")


class _HeaderExtension(aiocometd_noloop.Extension):
    """Sends the agent's session cookie and CSRF token with every CometD request."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers.update(self._headers)

    async def incoming(self, payload: list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        return None


@dataclass
class _Agent:
    name: str
    headers: dict[str, str]
    received: Counter[str] = field(default_factory=Counter)
    client: aiocometd_noloop.Client | None = None


def describe_notification(message: dict[str, Any]) -> tuple[str, str]:
    """``(kind, state)`` of a GWS notification: messageType[/notificationType] and a short state."""
    data = message.get("data") or {}
    if isinstance(data.get("data"), dict):  # /v2/me/channels nests its payload (quirk B4)
        data = data["data"]
    kind = str(data.get("messageType") or data.get("messageTypeName") or "")
    if data.get("notificationType"):
        kind = f"{kind}/{data['notificationType']}" if kind else str(data["notificationType"])
    state = ""
    if isinstance(data.get("call"), dict):
        call = data["call"]
        caller = call.get("ani") or ",".join(map(str, call.get("participants") or [])) or "-"
        state = f"{call.get('state')}  call {str(call.get('id', ''))[:8]} with {caller}"
        if data.get("notificationType") == "AttachedDataChanged":
            state += f"  userData {sorted(call.get('userData') or {})}"
    elif isinstance(data.get("devices"), list) and data["devices"]:
        user_state = data["devices"][0].get("userState") or {}
        state = " ".join(
            str(user_state[key]) for key in ("state", "workMode", "reason") if user_state.get(key)
        )
    elif isinstance(data.get("service"), dict):
        state = f"{data['service'].get('type')} {data['service'].get('state')}"
    elif isinstance(data.get("channels"), list):
        kind = kind or "channels"
        state = ", ".join(
            f"{item.get('channel', 'dnd')} {(item.get('userState') or {}).get('state', item.get('dndState'))}"
            for item in data["channels"]
        )
    elif isinstance(data.get("interaction"), dict) or data.get("messageType") == "InteractionStateMessage":
        interaction = data.get("interaction") or data
        state = f"{interaction.get('state')}  {interaction.get('channel') or interaction.get('type', '')}"
    elif data.get("errorMessage"):
        state = str(data["errorMessage"])
    return kind or "?", state


async def _login(http: aiohttp.ClientSession, base_url: str, name: str) -> _Agent:
    basic = {"Authorization": aiohttp.encode_basic_auth(name, "password")}
    async with http.get(f"{base_url}/api/v2/me", headers=basic) as reply:
        reply.raise_for_status()
        cookie = reply.cookies.get("JSESSIONID")
        headers = {"Cookie": f"JSESSIONID={cookie.value}"} if cookie is not None else dict(basic)
        if reply.headers.get("X-CSRF-HEADER"):
            headers[reply.headers["X-CSRF-HEADER"]] = reply.headers["X-CSRF-TOKEN"]
    return _Agent(name, headers)


class _Demo:
    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, agents: list[_Agent], pause: float
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.agents = agents
        self.pause = pause
        self.started = time.monotonic()
        self.finished: float | None = None

    def say(self, text: str) -> None:
        print(f"{time.monotonic() - self.started:7.2f}s  ── {text}", flush=True)

    async def call(self, method: str, path: str, body: dict[str, Any], agent: _Agent | None = None) -> Any:
        headers = agent.headers if agent is not None else {}
        async with self.http.request(method, f"{self.base_url}{path}", json=body, headers=headers) as reply:
            result = await reply.json(content_type=None)
            if reply.status >= 300 or (isinstance(result, dict) and result.get("statusCode", 0) != 0):
                self.say(f"{method} {path} answered {reply.status}: {result}")
            return result

    async def listen(self, agent: _Agent) -> None:
        client = aiocometd_noloop.Client(
            f"{self.base_url}/api/v2/notifications",
            ConnectionType.LONG_POLLING,
            extensions=[_HeaderExtension(agent.headers)],
        )
        agent.client = client
        await client.open()
        for channel in CHANNELS:
            await client.subscribe(channel)

    async def print_notifications(self, agent: _Agent) -> None:
        assert agent.client is not None
        while True:
            try:
                message = await agent.client.receive()
            except aiocometd_noloop.exceptions.TransportTimeoutError:
                continue  # the client reconnects by itself; keep asking
            kind, state = describe_notification(message)
            agent.received[kind] += 1
            elapsed = time.monotonic() - self.started
            print(
                f"{elapsed:7.2f}s  {agent.name:<10} {message['channel']:<24} {kind:<42} {state}", flush=True
            )

    async def script(self) -> None:
        first, second = self.agents[0], self.agents[min(1, len(self.agents) - 1)]
        self.say("agents start their contact-center session and go Ready")
        for agent in self.agents:
            session = {"operationName": "StartContactCenterSession", "channels": ["voice", "email", "chat"]}
            await self.call("POST", "/api/v2/me", session, agent)
            await self.call("POST", "/api/v2/me/channels/voice", {"operationName": "Ready"}, agent)
        await asyncio.sleep(self.pause)
        self.say(f"a customer calls {first.name}")
        customer = {"CustomerName": "Ada Lovelace", "AccountId": "ACME-1842"}
        ring = {"to": first.name, "from": "+14155550123", "userData": customer}
        call_id = (await self.call("POST", "/sim/calls", ring))["id"]
        await asyncio.sleep(self.pause)
        self.say(f"{first.name} answers")
        await self.call("POST", f"/api/v2/me/calls/{call_id}", {"operationName": "Answer"}, first)
        await asyncio.sleep(self.pause)
        self.say(f"{first.name} attaches case data")
        attach = {"operationName": "AttachUserData", "userData": {"CaseId": "CS-2047", "Topic": "Billing"}}
        await self.call("POST", f"/api/v2/me/calls/{call_id}", attach, first)
        await asyncio.sleep(self.pause)
        self.say("the customer hangs up")
        await self.call("POST", f"/sim/calls/{call_id}/release", {})
        await asyncio.sleep(self.pause)
        self.say(f"{first.name} goes NotReady: Out to Lunch")
        await self.call("POST", "/api/v2/me/channels/voice", {"operationName": "OutToLunch"}, first)
        await asyncio.sleep(self.pause)
        self.say(f"an e-mail arrives for {second.name}")
        email = {"to": second.name, "channel": "email", "subject": "Invoice 2047", "text": "Hello, ..."}
        interaction_id = (await self.call("POST", "/sim/interactions", email))["id"]
        await asyncio.sleep(self.pause)
        self.say(f"{second.name} accepts it")
        accept = {"operationName": "Accept"}
        await self.call("POST", f"/api/v2/me/interactions/{interaction_id}", accept, second)
        await asyncio.sleep(self.pause)
        self.say("the voice service goes down")
        await self.call("POST", "/sim/services/voice", {"state": "Inactive"})
        await asyncio.sleep(self.pause)
        self.say("the voice service is back")
        await self.call("POST", "/sim/services/voice", {"state": "Active"})
        await asyncio.sleep(self.pause)
        for turn in range(1_000_000):
            agent = self.agents[turn % len(self.agents)]
            self.say(f"another call for {agent.name}: ring, answer, hang up")
            call_id = (await self.call("POST", "/sim/calls", {"to": agent.name, "from": "5551234"}))["id"]
            await asyncio.sleep(self.pause)
            await self.call("POST", f"/api/v2/me/calls/{call_id}", {"operationName": "Answer"}, agent)
            await asyncio.sleep(self.pause)
            await self.call("POST", f"/api/v2/me/calls/{call_id}", {"operationName": "Hangup"}, agent)
            await asyncio.sleep(self.pause)

    def summary(self) -> None:
        elapsed = (self.finished or time.monotonic()) - self.started
        total = sum(sum(agent.received.values()) for agent in self.agents)
        print(f"summary: {total} notifications to {len(self.agents)} agents in {elapsed:.1f} s", flush=True)
        for agent in self.agents:
            kinds = ", ".join(f"{kind} {count}" for kind, count in agent.received.most_common())
            print(f"  {agent.name}: {sum(agent.received.values())} ({kinds})", flush=True)


def _quiet_cancelled_callbacks(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # aiocometd-noloop's connect-done callback re-raises CancelledError when a client closes;
    # it is harmless, and a demo should not print a traceback for it.
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def run(args: argparse.Namespace) -> int:
    """Run the demo for ``args.duration`` seconds (or until Ctrl-C); 0 on success."""
    logging.getLogger("aiocometd_noloop").setLevel(logging.WARNING)
    logging.getLogger("simulator").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(_quiet_cancelled_callbacks)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = SimulatorConfig(host="127.0.0.1", port=port, agents=max(1, args.agents))
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    base_url = config.url()
    print(f"GWS simulator on {base_url}; CometD at {base_url}/api/v2/notifications", flush=True)

    tasks: list[asyncio.Task[None]] = []
    demo: _Demo | None = None
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=30))
    try:
        names = [f"agent{n:04d}" for n in range(1, max(1, args.agents) + 1)]
        agents = [await _login(http, base_url, name) for name in names]
        demo = _Demo(http, base_url, agents, pause=max(0.3, min(1.5, args.duration / 16)))
        await asyncio.gather(*(demo.listen(agent) for agent in agents))
        demo.say(f"{len(agents)} agents logged in and subscribed to {', '.join(CHANNELS)}")
        tasks = [asyncio.create_task(demo.print_notifications(agent)) for agent in agents]
        tasks.append(asyncio.create_task(demo.script()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, args.duration - (time.monotonic() - demo.started)))
        tasks[-1].cancel()
        await asyncio.sleep(0.3)  # let the last notifications arrive
        demo.finished = time.monotonic()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if demo is not None:
            for agent in demo.agents:
                if agent.client is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(agent.client.close(), 5)
        await http.close()
        await runner.cleanup()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        loop.set_exception_handler(previous_handler)
        if demo is not None:
            demo.summary()
    return 0
