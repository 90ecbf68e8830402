"""GWS push topics and filters, credential caches and option helpers (pure)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bridge.errors import ConfigError
from bridge.events import Event
from bridge.mobile.topics import filter_matches, topic_for, validate_filter
from connectors import parse_retry_after
from connectors.push.options import read_credential
from connectors.push.tokens import ApnsTokenSigner, ServiceAccount


def event(event_type: str, agent: str = "jane.doe", **data: Any) -> Event:
    return Event(
        id=secrets.token_hex(8),
        source="s",
        type=event_type,
        subject="x",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        data=data,
        sequence=1,
        partitionkey=agent,
    )


@pytest.mark.parametrize(
    ("event_type", "data", "topic"),
    [
        ("call.ringing", {"call_id": "0071"}, "gws.api.v2.users.jane.doe.calls.0071"),
        ("agent.state_changed", {"device_id": "d-1"}, "gws.api.v2.users.jane.doe.devices.d-1"),
        ("device.state_changed", {"device_id": "d-1"}, "gws.api.v2.users.jane.doe.devices.d-1"),
        ("interaction.invited", {"interaction_id": "i9"}, "gws.api.v2.users.jane.doe.interactions.i9"),
        ("workbin.interaction_added", {"workbin": "Drafts"}, "gws.api.v2.users.jane.doe.workbins.Drafts"),
        ("service.state_changed", {"service_type": "Voice"}, "gws.api.v2.users.jane.doe.services.Voice"),
        ("channel.state_changed", {"channel": "chat"}, "gws.api.v2.users.jane.doe.channels.chat"),
        ("call.error", {"call_id": "0071"}, None),
        ("mobile.token_invalidated", {}, None),
    ],
)
def test_topic_for_each_family(event_type: str, data: dict[str, Any], topic: str | None) -> None:
    assert topic_for(event(event_type, **data)) == topic


@pytest.mark.parametrize(
    ("filter_", "topic", "passes"),
    [
        (None, "gws.api.v2.users.jane.doe.calls.1", True),
        ("gws.api.v2.users.jane.doe.*", "gws.api.v2.users.jane.doe.calls.1", True),
        ("gws.api.v2.users.jane.doe.calls.*", "gws.api.v2.users.jane.doe.calls.1", True),
        ("gws.api.v2.users.jane.doe.calls.*", "gws.api.v2.users.jane.doe.devices.d", False),
        ("gws.api.v2.users.jane.*", "gws.api.v2.users.jane.doe.calls.1", True),  # dots in agent names
        ("gws.api.v2.users.*.devices.*", "gws.api.v2.users.jane.doe.devices.d", True),
        ("gws.api.v2.users.jane.doe.calls.*, gws.api.v2.users.jane.doe.devices.*",
         "gws.api.v2.users.jane.doe.devices.d", True),
        ("gws.api.v2.users.bob.*", "gws.api.v2.users.jane.doe.calls.1", False),
        ("gws.api.v2.users.jane.doe.calls", "gws.api.v2.users.jane.doe.calls.1", False),
        ("gws.api.v2.users.jane?doe.*", "gws.api.v2.users.janeXdoe.calls.1", False),  # only * is special
    ],
)  # fmt: skip
def test_filter_matching(filter_: str | None, topic: str, passes: bool) -> None:
    assert filter_matches(filter_, topic) is passes


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ("", "empty"),
        ("calls.*", "must start with 'gws.'"),
        ("gws.a,,gws.b", "empty pattern"),
        ("gws.users.[abc]", "characters outside"),
        ("gws." + "a" * 600, "longer than"),
    ],
)
def test_invalid_filters_say_why(filter_: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_filter(filter_)


def _p8() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_apns_token_is_es256_with_kid_and_iss_and_reused_until_its_age() -> None:
    pem, clock = _p8(), Clock()
    signer = ApnsTokenSigner(pem, key_id="ABC123DEFG", team_id="TEAM", refresh_after=1200, clock=clock)
    first = signer.token()
    public = serialization.load_pem_private_key(pem.encode(), None).public_key()
    assert jwt.get_unverified_header(first) == {"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"}
    assert jwt.decode(first, public, algorithms=["ES256"]) == {"iss": "TEAM", "iat": 1_700_000_000}  # type: ignore[arg-type]

    assert all(signer.token() == first for _ in range(1000))
    clock.now += 1199
    assert signer.token() == first
    clock.now += 1
    assert signer.token() != first and signer.generated == 2


@pytest.mark.parametrize("age", [60, 1199, 3601])
def test_apns_refresh_outside_20_to_60_minutes_is_refused(age: float) -> None:
    with pytest.raises(ConfigError, match="between 1200 and 3600"):
        ApnsTokenSigner(_p8(), key_id="k", team_id="t", refresh_after=age)


def test_an_rsa_key_is_not_an_apns_key() -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigError, match="P-256"):
        ApnsTokenSigner(rsa_pem, key_id="k", team_id="t")


def test_service_account_errors_name_the_field_never_the_key() -> None:
    secret_pem = "-----BEGIN PRIVATE KEY-----SECRETSECRET"
    with pytest.raises(ConfigError, match="has no client_email") as caught:
        ServiceAccount.from_json(orjson.dumps({"private_key": secret_pem}))
    assert "SECRET" not in str(caught.value)
    with pytest.raises(ConfigError, match="not JSON"):
        ServiceAccount.from_json("{")


def test_read_credential_refuses_inline_values_and_names_the_reference(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a reference"):
        read_credential("-----BEGIN PRIVATE KEY-----", what="APNs key")
    with pytest.raises(ConfigError, match=r"file:/nonexistent/k\.p8: cannot read file"):
        read_credential("file:/nonexistent/k.p8", what="APNs key")
    (tmp_path / "k").write_text("  \n")
    with pytest.raises(ConfigError, match="is empty"):
        read_credential(f"file:{tmp_path / 'k'}", what="APNs key")
    assert read_credential("env:KEY", what="k", environ={"KEY": "value"}) == "value"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("12", 12.0),
        ("-3", 0.0),
        ("soon", None),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=60.0) == seconds
