"""What the end-to-end tests check at the CRM: a verifying sink and the per-call assertions."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.plugins.contract import contract_problems, header_problems
from tests.plugins.ports import free_port

__all__ = [
    "CALL_FLOW",
    "LOAD_USER_DATA",
    "CallReport",
    "Delivered",
    "VerifyingSink",
    "call_report",
    "check_calls",
    "check_final_states",
]

CALL_FLOW = ["call.ringing", "call.established", "call.data_changed", "call.released"]
#: what every call of a simulator load gets attached when it is answered (simulator/load.py)
LOAD_USER_DATA = {"CustomerName": "Load Test", "POC": "Load"}


@dataclass(frozen=True)
class Delivered:
    """One request the sink accepted (2xx)."""

    webhook_id: str
    event: dict[str, Any]
    at: float

    @property
    def type(self) -> str:
        return str(self.event["type"])

    @property
    def subject(self) -> str:
        return str(self.event["subject"])

    @property
    def sequence(self) -> int:
        return int(self.event["sequence"])


class VerifyingSink:
    """The CRM: verifies signatures, records every accepted delivery; restartable on one port.

    Every delivery is also held to docs/schemas (its type's JSON Schema, the
    AsyncAPI document's headers): what breaks them is kept in ``contract_problems``.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._verifier = Webhook(secret)
        self.port = free_port()
        self.delivered: list[Delivered] = []
        self.bad_signatures = 0
        self.contract_problems: list[str] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/crm"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            self._verifier.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            self.bad_signatures += 1
            return web.Response(status=401)
        event = json.loads(body)
        self.contract_problems += header_problems(dict(request.headers)) + contract_problems(event)
        self.delivered.append(Delivered(request.headers["webhook-id"], event, time.time()))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/crm", self._receive)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def distinct(self) -> dict[str, Delivered]:
        """First delivery of each webhook-id, in arrival order."""
        first: dict[str, Delivered] = {}
        for item in self.delivered:
            first.setdefault(item.webhook_id, item)
        return first

    def repeats(self) -> int:
        """Deliveries of an id already delivered (at-least-once redeliveries)."""
        return len(self.delivered) - len(self.distinct())

    def of_type(self, event_type: str) -> list[Delivered]:
        return [item for item in self.distinct().values() if item.type == event_type]


@dataclass
class CallReport:
    """What the sink got for the simulated calls."""

    calls: dict[str, list[Delivered]] = field(default_factory=dict)  # subject -> first deliveries

    def complete(self) -> int:
        return sum(1 for items in self.calls.values() if [i.type for i in items] == CALL_FLOW)


def call_report(sink: VerifyingSink) -> CallReport:
    """First deliveries of every ``call/…`` subject, in arrival order."""
    calls: dict[str, list[Delivered]] = defaultdict(list)
    for item in sink.distinct().values():
        if item.subject.startswith("call/"):
            calls[item.subject].append(item)
    return CallReport(dict(calls))


def check_calls(
    sink: VerifyingSink, calls_started: int, *, allow_repeats: bool, snapshots_allowed: bool = False
) -> CallReport:
    """Every simulated call's four events arrived, signed, in sequence order, each id once.

    - as many call subjects as the simulator started calls, each with exactly
      ringing → established → data_changed → released, sequences 1..4, in arrival order;
      with ``snapshots_allowed``, a call may instead have an in-order part of that flow
      ending in released, with increasing sequences (what state recovery reports for a call
      that changed while no subscriber held the agent: GWS replays no CometD messages);
    - one webhook-id per (subject, sequence): no event was emitted twice under two ids;
    - no bad signature, every delivery as docs/schemas describes it; with
      ``allow_repeats=False``, no webhook-id delivered twice either.
    """
    report = call_report(sink)
    assert sink.bad_signatures == 0
    assert sink.contract_problems == [], sink.contract_problems[:5]
    problems = []
    for subject, items in report.calls.items():
        types = [item.type for item in items]
        sequences = [item.sequence for item in items]
        if types == CALL_FLOW and sequences == [1, 2, 3, 4]:
            continue
        if snapshots_allowed and _recovered_in_order(types, sequences):
            continue
        problems.append(f"{subject}: {list(zip(types, sequences, strict=True))}")
    assert not problems, (
        f"{len(problems)} of {len(report.calls)} calls incomplete or out of order: {problems[:5]}"
    )
    assert len(report.calls) == calls_started, (len(report.calls), calls_started)
    ids_per_event = Counter((item.subject, item.sequence) for item in sink.distinct().values())
    assert max(ids_per_event.values(), default=1) == 1, "an event was emitted twice under two ids"
    if not allow_repeats:
        assert sink.repeats() == 0, Counter(item.webhook_id for item in sink.delivered).most_common(3)
    return report


def _recovered_in_order(types: list[str], sequences: list[int]) -> bool:
    positions = [CALL_FLOW.index(t) if t in CALL_FLOW else -1 for t in types]
    return (
        bool(types)
        and types[-1] == "call.released"
        and -1 not in positions
        and positions == sorted(set(positions))
        and sequences == sorted(set(sequences))
    )


def check_final_states(sink: VerifyingSink, calls_started: int) -> CallReport:
    """Every simulated call's final state arrived, whatever GWS published while we were away.

    :func:`check_calls` with ``snapshots_allowed`` (an in-order part of the flow ending in
    ``call.released``, one id per event), and moreover for every call: its attached data
    arrived as a ``call.data_changed`` before the release (live, or derived by state
    recovery when GWS published the change while no subscription was there), and
    ``call.released`` — the call's last event — carries that data.
    """
    report = check_calls(sink, calls_started, allow_repeats=True, snapshots_allowed=True)
    problems = []
    for subject, items in report.calls.items():
        changes = [item for item in items if item.type == "call.data_changed"]
        released = items[-1].event["data"]["user_data"]
        if not changes or not LOAD_USER_DATA.items() <= changes[-1].event["data"]["user_data"].items():
            problems.append(f"{subject}: no call.data_changed with the call's data: {_flow(items)}")
        elif not LOAD_USER_DATA.items() <= released.items():
            problems.append(f"{subject}: call.released without the call's data: {released}")
    assert not problems, f"{len(problems)} of {len(report.calls)} calls: {problems[:5]}"
    return report


def _flow(items: list[Delivered]) -> list[str]:
    return [item.type + (" (recovered)" if item.event["data"].get("recovered") else "") for item in items]
