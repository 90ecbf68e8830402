"""GwsRestClient across a real GWS-simulator process being killed and started again."""

from __future__ import annotations

import asyncio

import pytest

from bridge.errors import GwsTransportError
from bridge.gws import operations as ops
from bridge.gws.rest import GwsRestClient
from tests.plugins.simulator import SimulatorHandle

pytestmark = pytest.mark.slow

AGENT = "agent0001"


async def test_gets_ride_out_a_gws_restart_and_posts_log_in_again(simulator_process: SimulatorHandle) -> None:
    process = simulator_process.process
    assert process is not None
    async with GwsRestClient(
        simulator_process.base_url, AGENT, "password", get_retries=30, backoff_base=0.1, backoff_cap=0.5
    ) as gws:
        await gws.login()
        old_session = gws.cometd_headers()["Cookie"]
        process.kill()
        # GWS is down: a POST is not retried blindly beyond "could not connect"; with no
        # retries left it fails fast as a transport error.
        async with GwsRestClient(simulator_process.base_url, AGENT, "password", get_retries=0) as other:
            with pytest.raises(GwsTransportError):
                await ops.ready(other)
        restart = asyncio.create_task(asyncio.to_thread(process.start))
        devices = await ops.get_devices(gws)  # retried with backoff until the new process answers
        await restart
        assert devices and devices[0]["id"]
        # the new process knows nothing of the old session: the POST is refused (CSRF), the
        # client logs in again and sends it once more
        assert await ops.start_contact_center_session(gws, ["voice"]) == {"statusCode": 0}
        assert await ops.not_ready(gws) == {"statusCode": 0}
        assert gws.cometd_headers()["Cookie"] != old_session
        entries = await simulator_process.log(agent=AGENT)
        assert [(e["method"], e["path"]) for e in entries][-2:] == [
            ("POST", "/api/v2/me"),
            ("POST", "/api/v2/me/channels/voice"),
        ]
