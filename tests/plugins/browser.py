"""Headless Chromium driven over the DevTools protocol (Debian's ``chromium``; no driver needed).

``browser`` is a fixture: a fresh Chromium with its own profile under the test's tmp dir, one
page, and a tiny CDP client over aiohttp's websocket: :meth:`Browser.goto`, :meth:`Browser.js`
(evaluate, awaiting promises), :meth:`Browser.wait` (poll a JS condition, bounded),
:meth:`Browser.type`, :meth:`Browser.click` and :meth:`Browser.screenshot`. The test is skipped,
with the reason, where Chromium is not installed (``make setup`` installs it as root).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.plugins.ports import free_port

__all__ = ["Browser"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


class Browser:
    """One page of a headless Chromium."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, shots: Path) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self.shots = shots

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self._ws.send_str(orjson.dumps({"id": call_id, "method": method, "params": params}).decode())
        async with asyncio.timeout(30):
            while True:
                message = await self._ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"DevTools connection ended: {message.type}")
                reply = orjson.loads(message.data)
                if reply.get("id") == call_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return dict(reply.get("result", {}))

    async def js(self, expression: str) -> Any:
        """The value of ``expression`` in the page (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(
                f"{expression}: {result['exceptionDetails'].get('exception', {}).get('description')}"
            )
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.wait("document.readyState === 'complete'", what=f"{url} to load")

    async def wait(self, condition: str, *, what: str, within: float = 20.0) -> Any:
        """Poll ``condition`` every 0.1 s until truthy; fail with the page's text after ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            try:
                value = await self.js(condition)
            except AssertionError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                text = await self.js("document.body ? document.body.innerText.slice(0, 2000) : ''")
                pytest.fail(f"timed out waiting for {what}; the page shows:\n{text}")
            await asyncio.sleep(0.1)

    async def type(self, selector: str, text: str) -> None:
        await self.js(
            f"document.querySelector({orjson.dumps(selector).decode()}).value = {orjson.dumps(text).decode()}"
        )

    async def click(self, selector: str) -> None:
        await self.js(f"document.querySelector({orjson.dumps(selector).decode()}).click()")

    async def screenshot(self, name: str) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def chromium_binary() -> str | None:
    return next((found for name in _CANDIDATES if (found := shutil.which(name))), None)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make setup installs Debian's chromium as root)")
    port = free_port()
    profile = tmp_path / "chromium-profile"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    log = (tmp_path / "chromium.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 (started once; it runs beside the test)
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
         "--window-size=1400,900", f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            deadline = time.monotonic() + 30
            target = None
            while target is None:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/json/list") as reply:
                        pages = [t for t in await reply.json() if t.get("type") == "page"]
                        target = pages[0]["webSocketDebuggerUrl"] if pages else None
                except (aiohttp.ClientError, OSError):
                    pass
                if target is None:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(
                            f"chromium did not start: {(tmp_path / 'chromium.log').read_text()[-2000:]}"
                        )
                    await asyncio.sleep(0.2)
            async with http.ws_connect(
                target, max_msg_size=64 * 1024 * 1024, timeout=aiohttp.ClientWSTimeout(ws_close=5)
            ) as ws:
                page = Browser(ws, shots)
                await page.call("Page.enable")
                await page.call("Runtime.enable")
                yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
