"""docs/consumers.md's receiver, run as written, against the real webhook connector."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jsonschema
import orjson
import pytest

from bridge.config.delivery import DestinationConfig
from bridge.errors import RetryableDeliveryError
from bridge.normalize import MemoryState, normalize
from connectors.webhook import WebhookConnector
from tests.plugins.delivery import make_event
from tests.plugins.ports import free_port

DOC = Path(__file__).resolve().parents[3] / "docs" / "consumers.md"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_QWxzb0FTZWNyZXRCdXROb3RUaGVSaWdodE9uZQ=="


def receiver_code() -> str:
    """The Python block that follows the ``<!-- receiver:`` marker in docs/consumers.md."""
    match = re.search(r"<!-- receiver:.*?-->\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/consumers.md lost its receiver example"
    return match.group(1)


def test_the_documented_schema_check_validates_an_event_and_names_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    match = re.search(r"## The schemas.*?```python\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/consumers.md lost its validation example"
    monkeypatch.chdir(DOC.parents[1])  # the example reads docs/schemas from the repository root
    ringing = DOC.parents[1] / "tests" / "fixtures" / "gws" / "cometd_call_StatusChange_Ringing_toast.json"
    (made,) = normalize(ringing.read_bytes(), agent="jsmith", state=MemoryState())
    event = orjson.loads(made.to_json())
    exec(match.group(1), {"event": event})  # valid: no exception
    event["sequence"] = 1
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'string'"):
        exec(match.group(1), {"event": event})


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    script = tmp_path / "receiver.py"
    script.write_text(receiver_code())
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        env={**os.environ, "WEBHOOK_SECRET": SECRET, "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), timeout=10)
        assert orjson.loads(ready) == {"listening": port}
        yield f"http://127.0.0.1:{port}/hooks/crm", process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def connector(url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> WebhookConnector:
    config = DestinationConfig(name="crm", kind="webhook", url=url, secrets=[secret])
    return WebhookConnector(config, session=session)


async def test_the_documented_receiver_verifies_dedupes_and_orders(
    receiver: tuple[str, asyncio.subprocess.Process],
) -> None:
    url, process = receiver
    async with aiohttp.ClientSession() as session:
        hook = connector(url, session)
        await hook.send(make_event(2))
        await hook.send(make_event(2))  # a retry: same webhook-id, fresh signature
        await hook.send(make_event(1))  # older than what call/c1 already shows (unordered destination)
        await hook.send(make_event(10))  # "…10" > "…02": the strings sort like the numbers
        await hook.send(make_event(3, agent="agent2"))  # the other agent's stream of the same call
        with pytest.raises(RetryableDeliveryError, match="HTTP 401"):
            await connector(url, session, OTHER_SECRET).send(make_event(11))
        headers = {"webhook-id": "x", "webhook-timestamp": "1768469400", "webhook-signature": "garbage"}
        async with session.post(url, data=make_event(12).to_json(), headers=headers) as forged:
            assert forged.status == 401  # not a 500: the malformed header is refused like a bad signature
    process.terminate()
    stdout, _ = await process.communicate()
    applied = stdout.decode().splitlines()
    assert applied == [
        "applied call.ringing call/c1 00000000000000000002",
        "applied call.ringing call/c1 00000000000000000010",
        "applied call.ringing call/c1 00000000000000000003",
    ]
