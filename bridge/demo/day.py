"""The demo's scripted day: the customers (simulator control API) and the CRM's commands (/v1/commands)."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from typing import Any

import aiohttp

from bridge.demo.sink import CrmSink
from bridge.demo.terminal import Terminal

__all__ = ["ScriptedDay"]


class ScriptedDay:
    """Drives the simulator (the customers) and the receiver (the CRM's commands)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        sim_url: str,
        receiver_url: str,
        api_key: str,
        agents: list[str],
        sink: CrmSink,
        terminal: Terminal,
    ) -> None:
        self.http = http
        self.sim_url = sim_url
        self.receiver_url = receiver_url
        self.api_key = api_key
        self.agents = agents
        self.sink = sink
        self.say = terminal.step
        self.terminal = terminal
        self.commands: Counter[str] = Counter()

    async def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(f"{self.sim_url}{path}", json=body) as reply:
            result: dict[str, Any] = await reply.json(content_type=None)
            return result

    async def command(self, agent: str, action: str, **params: Any) -> int:
        """POST one command to ``/v1/commands``; prints and counts the outcome."""
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": secrets.token_hex(8)}
        body = {"agent": agent, "action": action, "params": params}
        async with self.http.post(f"{self.receiver_url}/v1/commands", json=body, headers=headers) as reply:
            result = await reply.json(content_type=None)
        status = reply.status
        detail = result.get("status") if status < 300 else (result.get("detail") or result.get("title"))
        self.commands["ok" if status < 300 else "refused"] += 1
        self.terminal.line(f"CMD   {action:<26} {agent:<10} → {status} {detail}")
        return status

    async def expect(self, event_type: str, pause: float, *, after: int = 0, **data: Any) -> None:
        """Wait (bounded) until the CRM has the event (one of those after the first ``after`` it
        received), so the story reads in order."""
        await self.sink.wait_for(
            lambda item: item.type == event_type and all(item.data.get(k) == v for k, v in data.items()),
            within=max(pause * 4, 5.0),
            after=after,
        )

    async def play(self, pause: float) -> None:
        first, second = self.agents[0], self.agents[min(1, len(self.agents) - 1)]
        self.say("the agents start their shift (commands: session.start, agent.ready)")
        for agent in self.agents:
            await self.command(agent, "session.start", channels=["voice", "email", "chat"])
            await self.command(agent, "agent.ready")
        await asyncio.sleep(pause)
        self.say(f"a customer calls {first}")
        customer = {"CustomerName": "Ada Lovelace", "AccountId": "ACME-1842"}
        ring = await self.control("/sim/calls", {"to": first, "from": "+14155550123", "userData": customer})
        call_id = str(ring["id"])
        await self.expect("call.ringing", pause, call_id=call_id)
        self.say(f"the CRM pops the customer's record and {first} answers (command: call.answer)")
        await self.command(first, "call.answer", call_id=call_id)
        await self.expect("call.established", pause, call_id=call_id)
        self.say(f"{first} attaches the case (command: call.attach_data)")
        await self.command(first, "call.attach_data", call_id=call_id, user_data={"CaseId": "CS-2047"})
        await self.expect("call.data_changed", pause, call_id=call_id)
        self.say(f"{first} sets the disposition (command: call.set_disposition)")
        await self.command(first, "call.set_disposition", call_id=call_id, disposition="IssueResolved")
        await self.expect("call.disposition_set", pause, call_id=call_id)
        self.say("the customer hangs up")
        await self.control(f"/sim/calls/{call_id}/release", {})
        await self.expect("call.released", pause, call_id=call_id)
        self.say(f"{first} goes to lunch (command: agent.not_ready, reason OutToLunch)")
        await self.command(first, "agent.not_ready", reason="OutToLunch")
        await asyncio.sleep(pause)
        self.say(f"an e-mail arrives for {second}")
        email = {"to": second, "channel": "email", "subject": "Invoice 2047", "text": "Hello, ..."}
        interaction_id = str((await self.control("/sim/interactions", email))["id"])
        await self.expect("interaction.invited", pause, interaction_id=interaction_id)
        self.say(f"{second} accepts it (command: interaction.accept)")
        await self.command(second, "interaction.accept", interaction_id=interaction_id)
        await asyncio.sleep(pause)
        self.say("a rush: callers pile up in the Support queue (the wallboard turns red)")
        await self.control("/sim/queues/VQ_Support/overload", {"waiting": 8})
        await self.expect("stats.threshold_crossed", pause, breached=True)
        self.say("agents take the calls: the queue drains (the wallboard clears)")
        for waiting in (5, 2, 0):
            await self.control("/sim/queues/VQ_Support/overload", {"waiting": waiting})
            await asyncio.sleep(max(pause, 1.2))
        await self.expect("stats.threshold_crossed", pause, breached=False)
        self.say("the voice service goes down")
        await self.control("/sim/services/Voice", {"state": "Inactive"})
        await asyncio.sleep(pause * 2)
        self.say("the voice service is back")
        await self.control("/sim/services/Voice", {"state": "Active"})
        await asyncio.sleep(pause)
        self.say(f"{first} is back from lunch (command: agent.ready)")  # before taking calls again
        received = len(self.sink.events)  # the shift's own NotReady → Ready does not count
        await self.command(first, "agent.ready")
        await self.expect("agent.state_changed", pause, after=received, agent=first, state="Ready")
        for turn in range(1_000_000):
            agent = self.agents[(turn + 1) % len(self.agents)]
            self.say(f"another call for {agent}: ring, answer, disposition, hang up")
            ring = await self.control("/sim/calls", {"to": agent, "from": f"+1415555{turn % 10000:04d}"})
            call_id = str(ring["id"])
            await self.expect("call.ringing", pause, call_id=call_id)
            await self.command(agent, "call.answer", call_id=call_id)
            await asyncio.sleep(pause)
            await self.command(agent, "call.set_disposition", call_id=call_id, disposition="UpdateProvided")
            await self.expect("call.disposition_set", pause, call_id=call_id)
            await self.command(agent, "call.hangup", call_id=call_id)
            await self.expect("call.released", pause, call_id=call_id)
            await asyncio.sleep(pause)
