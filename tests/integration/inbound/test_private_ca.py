"""A GWS whose certificate is signed by a private CA (``[gws] ca_file``): commands work too.

The subscriber always honoured ``ca_file``; the receiver's REST clients and its CometD outcome
listener were built without it, so against such a GWS every command failed on TLS.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bridge.config import Settings
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundSettings
from bridge.inbound.app import RECEIVER_KEY, create_app
from tests.integration.inbound.conftest import ReceiverHandle, default_clients
from tests.plugins.ports import free_port
from tests.plugins.simulator import start_in_process
from tests.plugins.tls import server_context


@pytest.mark.parametrize("ca_file", [True, False], ids=["ca_file", "no-ca_file"])
async def test_a_command_is_performed_and_confirmed_over_tls(
    certificate: tuple[Path, Path], redis_url: str, ca_file: bool
) -> None:
    gws, gws_runner = await start_in_process(ssl_context=server_context(*certificate))
    assert gws.base_url.startswith("https://") and gws.sim is not None
    settings = Settings(
        redis_url=redis_url,
        gws=GwsSettings(
            base_url=gws.base_url, ca_file=str(certificate[0]) if ca_file else None, request_timeout=5.0
        ),
        agents=[AgentConfig(username="agent0001", password=gws.password)],
        inbound=InboundSettings(clients=default_clients(), outcome_timeout=3.0),
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    receiver = ReceiverHandle(f"http://127.0.0.1:{port}", app[RECEIVER_KEY], http)
    try:
        status, body, _ = await receiver.command("agent.ready")
        record = await receiver.status_of(body["id"], until="settled") if status == 202 else body
    finally:
        await http.close()
        await runner.cleanup()
        await gws_runner.cleanup()
    performed = [e for e in gws.sim.request_log if e["method"] == "POST" and e["path"].endswith("/voice")]
    if ca_file:
        # performed over REST, confirmed by the outcome listener's CometD notification
        assert status == 202 and record["status"] == "succeeded", record
        assert performed, "the Ready operation never reached GWS"
    else:  # without ca_file the private CA is not trusted: refused, nothing performed
        assert status >= 500 and not performed, (status, body)
