"""The outcome listener reuses its CometD auth headers only while the agent's GWS session is the
same: after a new log-in (a new JSESSIONID; with CSRF off no new token tells) the next request
carries the new cookie."""

from __future__ import annotations

from typing import Any

from bridge.gws.rest import GwsRestClient
from bridge.inbound.listener import _RestCredentials


async def test_a_new_login_brings_new_headers_even_without_csrf(simulator_factory: Any) -> None:
    simulator = await simulator_factory(csrf=False)
    rest = GwsRestClient(simulator.base_url, "agent0001", "password")
    try:
        await rest.login()
        credentials = _RestCredentials(rest)
        first: dict[str, str] = {}
        await credentials.outgoing([], first)
        again: dict[str, str] = {}
        await credentials.outgoing([], again)
        assert again == first and "JSESSIONID" in first["Cookie"]
        rest.forget_session()
        await rest.login()
        after: dict[str, str] = {}
        await credentials.outgoing([], after)
        assert "JSESSIONID" in after["Cookie"] and after["Cookie"] != first["Cookie"]
        assert after["Cookie"] == rest.cometd_headers()["Cookie"]
    finally:
        await rest.aclose()
