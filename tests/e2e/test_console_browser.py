"""The operator console in a real browser (headless Chromium) against a running bridge on the simulator.

An operator signs in, finds a simulated call by its id, sees its deliveries, replays a dead letter
and sees it delivered; a viewer is refused the replay. A screenshot of every page is saved under
the test's tmp dir (``screenshots/``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from tests.plugins.browser import Browser
from tests.plugins.e2e import BridgeStack
from tests.plugins.ports import free_port

StackFactory = Callable[..., Awaitable[BridgeStack]]


class FlakySink:
    """A webhook receiver that fails (500) until :meth:`fix`, then accepts; records what it accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 500
        self.accepted: list[dict[str, object]] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.status < 300:
            self.accepted.append(orjson.loads(body))
        return web.Response(status=self.status, text="flaky says no" if self.status >= 300 else "ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def flaky() -> AsyncIterator[FlakySink]:
    sink = FlakySink()
    await sink.start()
    yield sink
    await sink.stop()


async def _sign_in(page: Browser, url: str, key: str) -> None:
    await page.goto(f"{url}/")
    await page.wait(
        "location.pathname === '/login' && !!document.getElementById('key')", what="the login page"
    )
    await page.type("#key", key)
    await page.click("#signin")
    await page.wait("document.body.dataset.ready === '1'", what="the console after sign-in")


async def _show(page: Browser, url: str, hash_: str, ready: str, what: str) -> None:
    await page.js(f"location.href = {orjson.dumps(url + '/' + hash_).decode()}")
    await page.wait(ready, what=what)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_an_operator_finds_a_call_sees_its_deliveries_and_replays_a_dead_letter(
    bridge_stack: StackFactory, browser: Browser, flaky: FlakySink
) -> None:
    stack = await bridge_stack(agents=2)
    stack.write_config(
        destinations=[{"name": "flaky", "kind": "webhook", "url": flaky.url, "timeout": 2.0}],
        routes=[
            {"events": ["*"], "destinations": ["crm"]},
            {"events": ["call.ringing"], "destinations": ["flaky"]},
        ],
        console={"masked_keys": ["CustomerName"]},
        retry_schedule=[0.2, 0.2],
        health={"failure_threshold": 1000},
        statistics=[{"object_id": "VQ_Support", "name": "Support", "interval": 1,
                     "statistics": ["Current_In_Queue", "ServiceLevel"]}],
    )  # fmt: skip
    for start in (stack.start_worker, stack.start_subscriber, stack.start_receiver, stack.start_console):
        start()
    await stack.wait_ready()
    agent = stack.sim.agents[0]
    status, body = await stack.command(agent, "agent.ready")
    assert status in (200, 202), body
    call_id = await stack.sim.start_call(agent, "+14155550123", {"CustomerName": "Ada Lovelace"})
    client = aioredis.Redis.from_url(stack.redis_url)
    await stack.wait_until(
        "call.ringing at the CRM",
        lambda: any(i.event["data"].get("call_id") == call_id for i in stack.sink.of_type("call.ringing")),
        20,
    )
    status, body = await stack.command(agent, "call.answer", call_id=call_id)
    assert status == 202, body

    async def ringing_delivered_and_flaky_dead() -> bool:
        delivered = any(i.event["data"].get("call_id") == call_id for i in stack.sink.of_type("call.ringing"))
        return delivered and await client.hlen("gwsb:dlq") >= 1

    try:
        await stack.wait_until(
            "call.ringing at the CRM and dead for flaky", ringing_delivered_and_flaky_dead, 30
        )
    finally:
        await client.aclose()
    url = stack.console_url

    # A viewer signs in, sees the overview (the dead letter, the queue the subscriber polls) and
    # is refused the replay.
    await _sign_in(browser, url, stack.viewer_key)
    await browser.wait(
        "document.getElementById('dlq-size') && document.getElementById('dlq-size').textContent !== '0'"
        " && !!document.querySelector('tr.queue-row')",
        what="the overview with its queue figures",
    )
    await browser.screenshot("overview")
    await _show(
        browser,
        url,
        "#/dead-letters",
        "document.querySelectorAll('tr.letter button.replay').length >= 1",
        "dead letters",
    )
    await browser.click("tr.letter button.replay")
    refused = await browser.wait(
        "document.getElementById('flash').className === 'error'"
        " && document.getElementById('flash').textContent",
        what="the viewer's replay to be refused",
    )
    assert "operator" in refused and "vera" in refused
    await browser.screenshot("dead-letters-viewer-refused")
    assert not flaky.accepted
    await browser.click("#signout")
    await browser.wait("location.pathname === '/login'", what="sign-out")

    # An operator finds the call by its id and sees its deliveries.
    await _sign_in(browser, url, stack.operator_key)
    await _show(browser, url, "#/events", "!!document.getElementById('q-call_id')", "the search form")
    await browser.type("#q-call_id", call_id)
    await browser.click("#search-go")
    await browser.wait(
        f"[...document.querySelectorAll('tr.event-row')].some(r => r.textContent.includes('call/{call_id}')"
        " && r.querySelector('.attempt.delivered'))",
        what="the call's events with a delivered attempt",
    )
    rows = await browser.js("[...document.querySelectorAll('tr.event-row')].map(r => r.textContent)")
    ringing = next(r for r in rows if "call.ringing" in r)
    assert "crm #1 delivered 2" in ringing and "flaky #3 dead 500" in ringing, ringing
    await browser.screenshot("events-search")
    await browser.js(f"document.querySelector('a[href=\"#/timeline/call%2F{call_id}\"]').click()")
    await browser.wait(
        "document.querySelectorAll('li.timeline-item').length >= 2", what="the call's timeline"
    )
    timeline = await browser.js("document.getElementById('page').textContent")  # the events' JSON too
    assert timeline.index("call.ringing") < timeline.index("call.established")
    assert '"CustomerName": "••••"' in timeline and "Ada Lovelace" not in timeline
    await browser.screenshot("timeline")

    # The receiver is back: the operator replays the dead letter, and it is delivered.
    flaky.status = 204
    await _show(
        browser,
        url,
        "#/dead-letters",
        "document.querySelectorAll('tr.letter button.replay').length >= 1",
        "dead letters",
    )
    await browser.screenshot("dead-letters")
    await browser.click("tr.letter button.replay")
    await browser.wait(
        "document.getElementById('flash').textContent.includes('replayed 1')", what="the replay"
    )
    await stack.wait_until("the replayed event at flaky", lambda: len(flaky.accepted) == 1, 20)
    assert flaky.accepted[0]["data"]["call_id"] == call_id  # type: ignore[index]
    await _show(
        browser, url, f"#/events?call_id={call_id}&type=call.ringing",
        "[...document.querySelectorAll('tr.event-row .attempt.delivered')]"
        ".some(a => a.textContent.startsWith('flaky'))",
        "the replayed delivery in the event's attempts",
    )  # fmt: skip
    await _show(
        browser,
        url,
        "#/dead-letters",
        "document.querySelector('td.empty') !== null",
        "an empty dead-letter list",
    )

    # Every other page renders.
    for hash_, ready, name in (
        ("#/agents", "document.querySelectorAll('tr.agent-row.connected').length === 2", "agents"),
        (f"#/agents/{agent}", "document.getElementById('page').innerText.includes('Current state')", "agent"),
        ("#/destinations", "document.querySelectorAll('tr.destination-row').length === 2", "destinations"),
        ("#/commands", "document.querySelectorAll('tr.command-row').length >= 1", "commands"),
        ("#/audit", "document.getElementById('page').innerText.includes('dead-letters.replay')", "audit"),
        ("#/live", "!!document.getElementById('tail')", "live"),
        ("#/", "!!document.getElementById('dlq-size')", "overview-after"),
    ):
        await _show(browser, url, hash_, ready, name)
        await browser.screenshot(name)
