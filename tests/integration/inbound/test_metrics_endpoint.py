"""The receiver's /metrics: the process collectors, and a bearer token when one is configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bridge.config.inbound import hash_api_key
from tests.integration.inbound.conftest import ReceiverHandle

TOKEN = "scrape-token-123"


async def test_metrics_are_open_by_default_with_process_collectors(receiver: ReceiverHandle) -> None:
    status, body, headers = await receiver.call("GET", "/metrics", key=None)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "process_resident_memory_bytes" in text and "python_gc_objects_collected_total" in text
    assert "# TYPE gwsb_inbound_request_duration_seconds histogram" in text


async def test_a_configured_token_is_required(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]],
) -> None:
    receiver = await receiver_factory(metrics_token_hashes=[hash_api_key(TOKEN)])
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        status, problem, answered = await receiver.call("GET", "/metrics", key=None, headers=headers)
        assert status == 401 and problem["type"].endswith("/unauthorized"), headers
        assert answered["Content-Type"] == "application/problem+json"
    status, body, _ = await receiver.call(
        "GET", "/metrics", key=None, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and b"gwsb_inbound_requests_total" in body
