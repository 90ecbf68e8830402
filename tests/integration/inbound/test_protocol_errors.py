"""Requests aiohttp cannot parse, and errors it raises itself: problem+json, one WARNING, no traceback."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from tests.integration.inbound.conftest import CRM_KEY, ReceiverHandle, raw_exchange
from tests.plugins.simulator import SimulatorHandle


def request(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in (b"Host: receiver", *headers)) + b"\r\n" + body


AUTH = b"Authorization: Bearer " + CRM_KEY.encode()
READY = orjson.dumps({"agent": "agent0001", "action": "agent.ready"})

MALFORMED = {
    "a header over aiohttp's size limit": request(b"GET /healthz HTTP/1.1", b"X-Big: " + b"a" * 9000),
    "more headers than aiohttp allows": request(
        b"GET /healthz HTTP/1.1", *(b"X-H%d: v" % i for i in range(200))
    ),
    "a request line over the limit": request(b"GET /" + b"a" * 9000 + b" HTTP/1.1"),
    "not a request line": b"GARBAGE\r\n\r\n",
    "not HTTP at all (a TLS hello)": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
    "an unknown HTTP version": request(b"GET /healthz HTTP/7.1"),
    "a control character in a header": request(b"GET /healthz HTTP/1.1", b"X-Bad: a\x00b"),
    "both Content-Length and Transfer-Encoding": request(
        b"POST /v1/commands HTTP/1.1",
        AUTH,
        b"Content-Length: 4",
        b"Transfer-Encoding: chunked",
        body=b"0\r\n\r\n",
    ),
    "a broken chunked body": request(
        b"POST /v1/commands HTTP/1.1",
        AUTH,
        b"Content-Type: application/json",
        b"Transfer-Encoding: chunked",
        body=b"zz\r\n" + READY + b"\r\n0\r\n\r\n",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_request_gets_a_problem_and_one_warning_line(
    case: str, receiver: ReceiverHandle, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, headers, body = await raw_exchange(receiver.url, MALFORMED[case])
    assert 400 <= status < 500, (status, body)
    assert headers["content-type"].startswith("application/problem+json"), headers
    problem = orjson.loads(body)
    assert problem["status"] == status and "aaaa" not in problem["detail"]
    await asyncio.sleep(0.05)  # the server logs after it answered
    records = [r for r in caplog.records if r.name.startswith(("bridge", "aiohttp"))]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)], [
        (r.name, r.levelname, r.getMessage()) for r in records
    ]
    assert CRM_KEY not in caplog.text
    assert await simulator.log() == []


async def test_aiohttps_own_http_errors_in_routes_are_problems(
    receiver: ReceiverHandle, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    big = b"x" * (receiver.receiver.settings.max_body_bytes + 10)
    status, body, headers = await receiver.call("DELETE", "/v1/mobile/devices/" + "a" * 64, raw=big)
    assert status == 413 and headers["Content-Type"].startswith("application/problem+json"), body
    assert body["status"] == 413
    assert all(r.levelno <= logging.WARNING and r.exc_info is None for r in caplog.records)
