"""Standard Webhooks signatures as a receiver verifies them, and Retry-After parsing."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bridge.config.delivery import DestinationConfig
from bridge.errors import ConfigError
from connectors.webhook import _Signer, parse_retry_after, signature_headers

OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def test_each_configured_secret_signs_and_either_verifies() -> None:
    body = b'{"id":"evt-1","type":"call.ringing"}'
    headers = signature_headers([_Signer(OLD), _Signer(NEW)], "evt-1", int(time.time()), body)
    assert headers["webhook-id"] == "evt-1"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (OLD, NEW):
        assert Webhook(secret).verify(body, headers) == {"id": "evt-1", "type": "call.ringing"}


def test_a_tampered_body_or_another_secret_fails_verification() -> None:
    body = b'{"id":"evt-1"}'
    headers = signature_headers([_Signer(OLD)], "evt-1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(OLD).verify(b'{"id":"evt-2"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW).verify(body, headers)


def test_unpadded_secrets_decode_like_the_reference_library() -> None:
    secret = "whsec_QUI"  # base64 without padding
    body = b"{}"
    headers = signature_headers([_Signer(secret)], "x", int(time.time()), body)
    Webhook(secret).verify(body, headers)


def test_a_malformed_secret_is_a_config_error() -> None:
    from connectors.webhook import WebhookConnector

    config = DestinationConfig(name="crm", kind="webhook", url="http://127.0.0.1:1", secrets=["whsec_!!!"])
    with pytest.raises(ConfigError, match="base64"):
        WebhookConnector(config)


def test_retry_after_in_seconds_or_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
