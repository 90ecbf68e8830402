"""``gws-bridge healthcheck`` fails when the watched event loop is stuck, though metrics still answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import start_http_server

from bridge.cli import main
from bridge.processes.healthcheck import check
from bridge.processes.heartbeat import Heartbeat
from tests.plugins.ports import free_port


@pytest.fixture
def watched_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def test_a_stuck_loop_fails_the_check_while_the_metrics_thread_still_answers(
    watched_loop: asyncio.AbstractEventLoop,
) -> None:
    port = free_port()
    server, server_thread = start_http_server(port, addr="127.0.0.1")
    try:
        beating = asyncio.run_coroutine_threadsafe(Heartbeat(interval=0.1).run(), watched_loop)
        url = f"http://127.0.0.1:{port}/metrics"
        time.sleep(0.3)
        assert check(url, max_age=1.0, timeout=4) is None
        assert main(["healthcheck", "--url", url, "--max-age", "1"]) == 0

        watched_loop.call_soon_threadsafe(time.sleep, 2.5)  # the loop hangs; the server thread does not
        time.sleep(1.8)
        problem = check(url, max_age=1.0, timeout=4)
        assert problem is not None and "event loop last turned" in problem
        assert main(["healthcheck", "--url", url, "--max-age", "1"]) == 1

        time.sleep(1.2)  # unblocked: beating again
        assert check(url, max_age=1.0, timeout=4) is None
        beating.cancel()
    finally:
        server.shutdown()
        server.server_close()
        server_thread.join(timeout=5)


def test_nothing_answering_is_unhealthy() -> None:
    assert "127.0.0.1" in (check(f"http://127.0.0.1:{free_port()}/metrics", max_age=30, timeout=2) or "")
