"""The Events API body, parsed without IO: what is a chat thread reply, what is ignored, what is refused."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bridge.errors import CommandError
from bridge.inbound.problems import Problem
from bridge.inbound.slack_events import Challenge, Ignored, ThreadReply, parse_event_body, plain_text

ROOT = "1700000000.000001"


def envelope(**event: Any) -> bytes:
    message = {"type": "message", "user": "U0AGENT1", "text": "On it", "ts": "1700000005.000200",
               "thread_ts": ROOT, "channel": "C0CONTACTS", **event}  # fmt: skip
    message = {key: value for key, value in message.items() if value is not None}
    return orjson.dumps({"token": "t", "team_id": "T0", "api_app_id": "A0", "type": "event_callback",
                         "event": message, "event_id": "Ev0001", "event_time": 1700000005})  # fmt: skip


def test_a_persons_thread_reply_is_a_thread_reply() -> None:
    assert parse_event_body(envelope()) == ThreadReply(
        "Ev0001", "U0AGENT1", "C0CONTACTS", ROOT, "1700000005.000200", "On it"
    )


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"bot_id": "B0BRIDGE"}, "bot"),
        ({"subtype": "message_changed"}, "subtype"),
        ({"subtype": "bot_message"}, "subtype"),
        ({"subtype": "thread_broadcast"}, "subtype"),
        ({"thread_ts": None}, "thread"),
        ({"thread_ts": "1700000005.000200"}, "thread"),  # the root itself
        ({"type": "app_mention"}, "event type"),
        ({"text": "   "}, "text"),
        ({"user": None}, "user"),
    ],
)
def test_what_is_not_a_persons_reply_is_ignored(event: dict[str, Any], why: str) -> None:
    parsed = parse_event_body(envelope(**event))
    assert isinstance(parsed, Ignored) and why in parsed.reason


def test_url_verification_and_other_envelopes() -> None:
    assert parse_event_body(b'{"type":"url_verification","challenge":"abc","token":"t"}') == Challenge("abc")
    assert isinstance(parse_event_body(b'{"type":"app_rate_limited","minute_rate_limited":1}'), Ignored)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"type":"url_verification"}', ["challenge"]),
        (b'{"type":"event_callback","event":{"type":"message"}}', ["event_id"]),
        (b'{"type":"event_callback","event_id":"Ev1"}', ["event"]),
        (b'{"event_id":"Ev1"}', ["type"]),
        (envelope(user=7), ["event", "user"]),
        (envelope(thread_ts="yesterday"), ["event", "thread_ts"]),
    ],
)
def test_a_malformed_envelope_names_the_field(body: bytes, loc: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        parse_event_body(body)
    assert refused.value.errors[0]["loc"] == loc


def test_a_body_that_is_not_an_object_is_400() -> None:
    with pytest.raises(Problem) as refused:
        parse_event_body(b"[1]")
    assert refused.value.status == 400


def test_slack_markup_becomes_plain_text() -> None:
    assert plain_text("a &lt;b&gt; &amp; c") == "a <b> & c"
    assert plain_text("see <https://example.com/x|the page> or <https://example.com/y>") == (
        "see the page or https://example.com/y"
    )
    assert plain_text("write to <mailto:help@example.com|help@example.com>") == "write to help@example.com"
    assert plain_text("thanks <@U0AGENT2>!") == "thanks !"
