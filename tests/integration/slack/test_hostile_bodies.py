"""Hostile Slack bodies: verified on the raw bytes first, then refused in problem+json, one WARNING each."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from tests.integration.slack.conftest import SIGNING_SECRET, ChatopsHandle
from tests.plugins.simulator import SimulatorHandle
from tests.plugins.slack import MockSlack

NOT_UTF8 = b"command=%2Fagent&text=ready\xff\xfe&user_id=U0AGENT1"


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"k": value}
    return value


def _refused(status: int, body: Any, headers: Any, expected: int) -> None:
    assert status == expected, body
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == expected
    assert "bridge failed" not in orjson.dumps(body).decode()


def _one_warning_each(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    records = [r for r in caplog.records if r.name.startswith(("bridge", "aiohttp"))]
    assert all(r.levelno <= logging.WARNING and r.exc_info is None for r in records), [
        (r.name, r.levelname, r.getMessage()) for r in records
    ]
    refused = [r for r in records if r.getMessage() == "slack request refused"]
    assert len(refused) == requests and all(r.levelno == logging.WARNING for r in refused)
    assert all(SIGNING_SECRET not in r.getMessage() + str(r.__dict__) for r in caplog.records)


async def test_a_body_that_is_not_utf8_is_401_unsigned_and_400_signed_never_the_bridge_failed(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await simulator.log(clear=True)
    for path in ("/slack/commands", "/slack/interactions"):
        status, body, headers = await chatops.post(path, NOT_UTF8, secret="not-the-signing-secret")
        _refused(status, body, headers, 401)
        status, body, headers = await chatops.post(path, NOT_UTF8, headers={"X-Slack-Signature": ""})
        _refused(status, body, headers, 401)
        status, body, headers = await chatops.post(path, NOT_UTF8)
        _refused(status, body, headers, 400)
        assert body["detail"] == "the body is not UTF-8"
        escaped = b"command=%2Fagent&text=%FF%FE"  # ASCII on the wire, not UTF-8 once unquoted
        status, body, headers = await chatops.post(path, escaped)
        _refused(status, body, headers, 400)
    await chatops.chatops.wait_idle()
    assert await simulator.log() == [] and slack_api.calls == []
    _one_warning_each(caplog, 8)


async def test_a_signed_body_that_is_not_a_form_is_400_and_another_media_type_415(
    chatops: ChatopsHandle, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await simulator.log(clear=True)
    for path in ("/slack/commands", "/slack/interactions"):
        for body in (b"just some text", b"a=1&&b=2", b'{"command": "/agent"}'):
            status, answer, headers = await chatops.post(path, body)
            _refused(status, answer, headers, 400)
            assert answer["detail"] == "the body is not form-encoded"
        for content_type in ("application/json", "application/x-www-form-urlencoded; charset=latin-1"):
            form = chatops.slash_body("/agent", "ready")
            status, answer, headers = await chatops.post(path, form, headers={"Content-Type": content_type})
            _refused(status, answer, headers, 415)
    assert await simulator.log() == []
    _one_warning_each(caplog, 10)


async def test_forms_and_payloads_keep_the_input_limits(
    chatops: ChatopsHandle, simulator: SimulatorHandle, slack_api: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await simulator.log(clear=True)
    status, body, headers = await chatops.slash("/agent", "notready " + "x" * 5000)
    _refused(status, body, headers, 422)
    assert body["errors"][0]["loc"] == ["text"]
    payload = {"type": "block_actions", "actions": [nested(40)], "response_url": slack_api.url}
    form = urlencode({"payload": orjson.dumps(payload).decode()}).encode()
    status, body, headers = await chatops.post("/slack/interactions", form)
    _refused(status, body, headers, 422)
    assert body["errors"][0]["loc"][:3] == ["payload", "actions", "0"]
    many = urlencode({f"field{i}": "v" for i in range(1001)}).encode()
    status, body, headers = await chatops.post("/slack/commands", many)
    _refused(status, body, headers, 400)
    await chatops.chatops.wait_idle()
    assert await simulator.log() == [] and slack_api.calls == []
    _one_warning_each(caplog, 3)
