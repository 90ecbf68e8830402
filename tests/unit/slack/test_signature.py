"""Slack request signing (v0, HMAC-SHA256, 5-minute window) with Slack's published example."""

from __future__ import annotations

import pytest
from slack_sdk.signature import SignatureVerifier

from bridge.inbound.problems import Problem
from bridge.inbound.slack import SlackSignatureVerifier

# https://api.slack.com/authentication/verifying-requests-from-slack (the documented example)
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def verifier(now: float) -> SlackSignatureVerifier:
    return SlackSignatureVerifier(SECRET, lambda: now)


def headers(stamp: str = TIMESTAMP, signature: str = SIGNATURE) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def test_slacks_published_example_verifies() -> None:
    assert verifier(float(TIMESTAMP)).verify(headers(), BODY) == (TIMESTAMP, SIGNATURE)
    # Up to five minutes of clock difference either way is accepted.
    verifier(float(TIMESTAMP) + 299).verify(headers(), BODY)
    verifier(float(TIMESTAMP) - 299).verify(headers(), BODY)


@pytest.mark.parametrize(
    ("now", "sent_headers", "body", "reason"),
    [
        (float(TIMESTAMP), headers(), BODY.replace(b"roadrunner", b"coyote"), "does not match"),
        (float(TIMESTAMP), headers(signature=SIGNATURE[:-1] + "0"), BODY, "does not match"),
        (float(TIMESTAMP), headers(signature="v1=" + SIGNATURE[3:]), BODY, "does not match"),
        (float(TIMESTAMP) + 301, headers(), BODY, "5 minutes"),
        (float(TIMESTAMP) - 301, headers(), BODY, "5 minutes"),
        (float(TIMESTAMP), headers(stamp="1531420618.5"), BODY, "Unix time"),
        (float(TIMESTAMP), {"X-Slack-Signature": SIGNATURE}, BODY, "missing"),
        (float(TIMESTAMP), {"X-Slack-Request-Timestamp": TIMESTAMP}, BODY, "missing"),
        (float(TIMESTAMP), headers(stamp="\uff11" * 10), BODY, "Unix time"),
        (float(TIMESTAMP), headers(signature="v0=\u00e9" + SIGNATURE[4:]), BODY, "does not match"),
        (float(TIMESTAMP), headers(), b"\xff\xfe" + BODY, "does not match"),
    ],
)
def test_tampered_stale_or_incomplete_requests_are_401(
    now: float, sent_headers: dict[str, str], body: bytes, reason: str
) -> None:
    with pytest.raises(Problem) as caught:
        verifier(now).verify(sent_headers, body)
    assert caught.value.status == 401 and reason in caught.value.detail
    assert SECRET not in str(caught.value.body())


def test_the_signature_is_slack_sdks_on_utf8_bodies_and_defined_on_any_bytes() -> None:
    ours = verifier(float(TIMESTAMP))
    assert ours.signature(TIMESTAMP, BODY) == SignatureVerifier(SECRET).generate_signature(
        timestamp=TIMESTAMP, body=BODY
    )
    not_utf8 = b"text=\xff\xfe&command=%2Fagent"
    signature = ours.signature(TIMESTAMP, not_utf8)
    signed = {"X-Slack-Request-Timestamp": TIMESTAMP, "X-Slack-Signature": signature}
    assert ours.verify(signed, not_utf8)[0] == TIMESTAMP  # verified on the bytes; decoding comes after
