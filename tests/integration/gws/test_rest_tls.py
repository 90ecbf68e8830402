"""TLS verification of the REST client against a real HTTPS server on loopback (self-signed cert)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bridge.errors import ConfigError, GwsTransportError
from bridge.gws.rest import GwsRestClient
from tests.plugins.ports import free_port
from tests.plugins.tls import server_context


@pytest.fixture
async def https_url(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = certificate
    context = server_context(cert, key)
    calls: list[str] = []

    async def me(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response({"statusCode": 0, "user": {"userName": "agent0001"}})

    app = web.Application()
    app.router.add_get("/api/v2/me", me)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_an_unknown_certificate_is_refused_without_retries(https_url: str) -> None:
    started = time.monotonic()
    async with GwsRestClient(https_url, "agent0001", "pw", get_retries=3, backoff_base=1.0) as gws:
        with pytest.raises(GwsTransportError) as caught:
            await gws.login()
    assert "certificate" in str(caught.value).lower()
    assert time.monotonic() - started < 0.9  # a retry would have slept >= 0.5 s


async def test_verification_can_be_turned_off(https_url: str) -> None:
    async with GwsRestClient(https_url, "agent0001", "pw", verify_tls=False) as gws:
        assert (await gws.login())["userName"] == "agent0001"


async def test_a_ca_file_makes_the_certificate_trusted(
    https_url: str, certificate: tuple[Path, Path]
) -> None:
    async with GwsRestClient(https_url, "agent0001", "pw", ca_file=str(certificate[0])) as gws:
        assert (await gws.login())["userName"] == "agent0001"


def test_an_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ca_file"):
        GwsRestClient("https://127.0.0.1:1", "agent0001", "pw", ca_file=str(tmp_path / "absent.pem"))
