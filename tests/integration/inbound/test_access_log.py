"""One access-log line per request: method, path, status, milliseconds, client — never the key."""

from __future__ import annotations

import logging

import pytest

from tests.integration.inbound.conftest import CRM_KEY, ReceiverHandle


async def test_every_request_gets_one_line_naming_the_client_but_not_the_key(
    receiver: ReceiverHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.inbound.access")
    status, _, _ = await receiver.command("agent.ready")
    assert status == 202
    assert (await receiver.call("POST", "/v1/commands", {"agent": "agent0001"}, key="wrong-key"))[0] == 401
    assert (await receiver.call("GET", "/healthz?token=x", key=None))[0] == 200

    lines = [r for r in caplog.records if r.name == "bridge.inbound.access"]
    assert [(r.getMessage(), r.client) for r in lines] == [
        ("POST /v1/commands 202", "crm"),
        ("POST /v1/commands 401", None),
        ("GET /healthz 200", None),  # the path only: a query string may carry anything
    ]
    assert all(r.levelno == logging.INFO and r.ms >= 0 for r in lines)
    assert all(CRM_KEY not in repr(vars(r)) and "wrong-key" not in repr(vars(r)) for r in caplog.records)
