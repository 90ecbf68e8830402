"""Verification: API key hashes, Standard Webhooks signatures, tolerance, replays — all 401 otherwise."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from multidict import CIMultiDict
from pydantic import ValidationError
from standardwebhooks import Webhook

from bridge.config.inbound import InboundSettings, hash_api_key
from bridge.errors import ConfigError
from bridge.inbound.auth import Authenticator
from bridge.inbound.problems import Problem

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_800_000_000.0
BODY = b'{"agent":"agent0001","action":"agent.ready"}'


def _settings(**crm: Any) -> InboundSettings:
    return InboundSettings(
        clients=[
            {"name": "crm", "api_key_hashes": [hash_api_key("key-crm")], "agents": ["*"], **crm},
            {"name": "widget", "signing_secrets": [SECRET], "agents": ["agent0001"]},
        ]
    )


def _signed(
    body: bytes = BODY, *, at: float = NOW, msg_id: str = "msg_1", secret: str = SECRET
) -> CIMultiDict[str]:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, tz=UTC), body.decode())
    return CIMultiDict(
        {"webhook-id": msg_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}
    )


async def _auth(
    headers: CIMultiDict[str], body: bytes = BODY, settings: InboundSettings | None = None
) -> str:
    authenticator = Authenticator(settings or _settings(), clock=lambda: NOW)
    seen: set[tuple[str, str, str]] = set()

    async def first(client: str, msg_id: str, stamp: str) -> bool:
        key = (client, msg_id, stamp)
        fresh = key not in seen
        seen.add(key)
        return fresh

    return (await authenticator.authenticate(headers, body, first)).client.name


async def _refused(
    headers: CIMultiDict[str], body: bytes = BODY, settings: InboundSettings | None = None
) -> str:
    with pytest.raises(Problem) as info:
        await _auth(headers, body, settings)
    assert info.value.status == 401
    return info.value.detail


async def test_a_valid_api_key_identifies_its_client() -> None:
    assert await _auth(CIMultiDict({"Authorization": "Bearer key-crm"})) == "crm"


async def test_a_valid_signature_identifies_its_client() -> None:
    assert await _auth(_signed()) == "widget"


async def test_missing_wrong_and_malformed_keys_are_refused_without_echoing_them() -> None:
    assert "missing credentials" in await _refused(CIMultiDict())
    detail = await _refused(CIMultiDict({"Authorization": "Bearer key-wrong"}))
    assert "key-wrong" not in detail
    await _refused(CIMultiDict({"Authorization": "Basic a2V5"}))


async def test_bad_stale_future_and_tampered_signatures_are_refused() -> None:
    wrong_secret = "whsec_" + base64.b64encode(b"another-secret-another-secret-12").decode()
    assert "does not match" in await _refused(_signed(secret=wrong_secret))
    assert "tolerance" in await _refused(_signed(at=NOW - 301))
    assert "tolerance" in await _refused(_signed(at=NOW + 301))
    assert "does not match" in await _refused(_signed(), body=BODY.replace(b"ready", b"offline"))
    garbage = _signed()
    garbage["webhook-signature"] = "v1,@@@ v2,xyz nonsense"
    await _refused(garbage)
    incomplete = _signed()
    del incomplete["webhook-id"]
    assert "incomplete" in await _refused(incomplete)


async def test_an_exact_replay_is_refused() -> None:
    authenticator = Authenticator(_settings(), clock=lambda: NOW)
    seen: set[tuple[str, str, str]] = set()

    async def first(client: str, msg_id: str, stamp: str) -> bool:
        fresh = (client, msg_id, stamp) not in seen
        seen.add((client, msg_id, stamp))
        return fresh

    headers = _signed()
    assert (await authenticator.authenticate(headers, BODY, first)).signed
    with pytest.raises(Problem, match="replayed"):
        await authenticator.authenticate(headers, BODY, first)
    # A retry re-signed with a new timestamp is a new request.
    assert (await authenticator.authenticate(_signed(at=NOW + 1), BODY, first)).signed


async def test_a_client_that_requires_signatures_refuses_a_bare_key() -> None:
    settings = _settings(signing_secrets=[SECRET], require_signature=True)
    assert "must sign" in await _refused(CIMultiDict({"Authorization": "Bearer key-crm"}), settings=settings)
    headers = _signed()
    headers["Authorization"] = "Bearer key-crm"
    assert await _auth(headers, settings=settings) == "crm"


def test_raw_keys_are_rejected_in_configuration() -> None:
    with pytest.raises(ValidationError, match="never a raw key"):
        InboundSettings(clients=[{"name": "x", "api_key_hashes": ["my-secret-key"]}])


def test_a_malformed_signing_secret_is_a_config_error_without_the_secret() -> None:
    settings = InboundSettings(clients=[{"name": "x", "signing_secrets": ["whsec_!!!not-base64!!!"]}])
    with pytest.raises(ConfigError) as info:
        Authenticator(settings)
    assert "not-base64" not in str(info.value)
