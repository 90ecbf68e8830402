"""Reply envelopes → success body or the right GwsError subclass (pure; samples from the seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import GwsError, GwsTransportError
from bridge.gws.errors import (
    ERRORS_BY_STATUS_CODE,
    GwsInternalError,
    GwsInvalidParameterError,
    GwsMissingParameterError,
    GwsNotAuthenticatedError,
    GwsNotFoundError,
    GwsOperationForbiddenError,
    GwsPartialSuccessError,
    GwsPermissionDeniedError,
    GwsReplyError,
    GwsServiceUnavailableError,
    parse_reply,
)

ENVELOPES = Path(__file__).parents[2] / "fixtures" / "gws_rest" / "envelopes"
SAMPLES = sorted(ENVELOPES.glob("*.json"))
FAILURE_WORDS = ("failure", "error", "partial")


def _is_failure_sample(path: Path) -> bool:
    return any(word in path.name for word in FAILURE_WORDS)


def test_fixture_set_is_complete() -> None:
    assert len(SAMPLES) > 200
    assert sum(_is_failure_sample(path) for path in SAMPLES) >= 40


@pytest.mark.parametrize("sample", [p for p in SAMPLES if not _is_failure_sample(p)], ids=lambda p: p.stem)
def test_every_seed_success_reply_is_returned_as_its_body(sample: Path) -> None:
    raw = sample.read_bytes()
    assert parse_reply(200, raw) == orjson.loads(raw)


@pytest.mark.parametrize("sample", [p for p in SAMPLES if _is_failure_sample(p)], ids=lambda p: p.stem)
def test_every_seed_failure_reply_raises_a_gws_reply_error(sample: Path) -> None:
    raw = sample.read_bytes()
    with pytest.raises(GwsReplyError) as caught:
        parse_reply(200, raw, context="POST /me")
    error = caught.value
    assert error.http_status == 200
    assert error.body == orjson.loads(raw)
    assert str(error).startswith("POST /me: ")
    assert error.status_code is None or error.status_code > 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"statusCode": 0}, {"statusCode": 0}),
        ({"statusCode": "0"}, {"statusCode": "0"}),
        ({"status": "ok"}, {"status": "ok"}),
        ({"status": "OK"}, {"status": "OK"}),
        ({"status": 0}, {"status": 0}),
        ({"status": "ok", "replyInteractionId": "x"}, {"status": "ok", "replyInteractionId": "x"}),
        ({"settings": [{"name": "a"}]}, {"settings": [{"name": "a"}]}),
        ({"uris": [" http://h/api/v2/interactions/1 "], "statusCode": 0}, None),
    ],
)
def test_success_envelopes_return_the_body(body: dict, expected: dict | None) -> None:
    assert parse_reply(200, orjson.dumps(body)) == (expected if expected is not None else body)


def test_empty_200_is_an_empty_success() -> None:
    assert parse_reply(200, b"") == {}
    assert parse_reply(204, b"  \n") == {}


def test_json_that_is_not_an_object_is_wrapped() -> None:
    assert parse_reply(200, b"[1, 2]") == {"value": [1, 2]}


@pytest.mark.parametrize(("code", "cls"), sorted(ERRORS_BY_STATUS_CODE.items()))
def test_status_codes_map_to_their_class_keeping_http_status_and_message(
    code: int, cls: type[GwsReplyError]
) -> None:
    body = {"statusCode": code, "statusMessage": f"message {code}"}
    with pytest.raises(cls) as caught:
        parse_reply(400, orjson.dumps(body), context="POST /me/calls/42")
    assert type(caught.value) is cls
    assert caught.value.status_code == code
    assert caught.value.http_status == 400
    assert f"message {code}" in caught.value.message
    assert isinstance(caught.value, GwsError)


def test_voice_unavailable_503_is_service_unavailable_and_internal() -> None:
    raw = (ENVELOPES / "rest_voice_error_http503.json").read_bytes()
    with pytest.raises(GwsServiceUnavailableError) as caught:
        parse_reply(503, raw, context="POST /me/calls/1")
    error = caught.value
    assert isinstance(error, GwsInternalError)
    assert (error.status_code, error.http_status) == (4, 503)
    assert error.message == "POST /me/calls/1: Voice service is not available at this time"
    assert str(error) == "POST /me/calls/1: Voice service is not available at this time statusCode=4 http=503"


def test_status_code_wins_over_http_status() -> None:
    with pytest.raises(GwsNotFoundError):
        parse_reply(403, b'{"statusCode": 6, "statusMessage": "no such call"}')


@pytest.mark.parametrize(
    ("http_status", "cls"),
    [
        (400, GwsInvalidParameterError),
        (401, GwsNotAuthenticatedError),
        (403, GwsPermissionDeniedError),
        (404, GwsNotFoundError),
        (500, GwsInternalError),
        (502, GwsInternalError),
        (503, GwsServiceUnavailableError),
        (409, GwsReplyError),
    ],
)
def test_without_a_status_code_the_http_status_chooses_the_class(
    http_status: int, cls: type[GwsReplyError]
) -> None:
    with pytest.raises(cls) as caught:
        parse_reply(http_status, b"{}")
    assert type(caught.value) is cls
    assert caught.value.status_code is None


def test_non_json_error_page_keeps_its_text() -> None:
    with pytest.raises(GwsPermissionDeniedError) as caught:
        parse_reply(403, b"CSRF token is missing", context="POST /me")
    assert "CSRF token is missing" in caught.value.message


def test_non_json_2xx_is_a_transport_error() -> None:
    with pytest.raises(GwsTransportError) as caught:
        parse_reply(200, b"<html>proxy</html>")
    assert caught.value.http_status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"statusCode": "X", "statusMessage": "..."},
        {"statusCode": "an integer value above 0", "statusMessage": "details"},
        {"statusCode": "<any integer value above 0>", "statusMessage": "details"},
        {"statusCode": None, "statusMessage": "null code"},
        {"statusCode": True},
        {"statusCode": [1]},
        {"status": "integer above 0", "description": "error-code"},
        {"status": "error", "errorDescription": "details"},
        {"status": {"nested": 1}},
    ],
)
def test_placeholder_and_odd_status_values_are_failures_without_a_code(body: dict) -> None:
    with pytest.raises(GwsReplyError) as caught:
        parse_reply(200, orjson.dumps(body))
    assert caught.value.status_code is None


def test_string_status_codes_are_read_as_numbers() -> None:
    with pytest.raises(GwsNotFoundError) as caught:
        parse_reply(200, b'{"statusCode": "6", "statusMessage": "gone"}')
    assert caught.value.status_code == 6


def test_numeric_status_envelope_is_not_read_with_the_status_code_table() -> None:
    # {"status": n} numbers are not the statusCode table (catalogue §21): class from HTTP only.
    with pytest.raises(GwsReplyError) as caught:
        parse_reply(200, b'{"status": 6, "description": "workbin-error"}')
    assert type(caught.value) is GwsReplyError
    assert caught.value.status_code == 6
    assert "workbin-error" in caught.value.message


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("statusMessage", {"statusCode": 2, "statusMessage": "A"}),
        ("errorDescription", {"status": "error", "errorDescription": "A"}),
        ("description", {"status": 3, "description": "A"}),
        ("errorMessage", {"statusCode": 4, "errorMessage": "A"}),
    ],
)
def test_each_message_key_is_read(key: str, body: dict) -> None:
    with pytest.raises(GwsReplyError) as caught:
        parse_reply(200, orjson.dumps(body), context="ctx")
    assert caught.value.message == "ctx: A", key


def test_failure_without_message_says_so() -> None:
    with pytest.raises(GwsInvalidParameterError) as caught:
        parse_reply(400, b'{"statusCode": 2}', context="POST /me")
    assert caught.value.message == "POST /me: GWS request failed"


def test_partial_success_exposes_succeeded_and_failed() -> None:
    raw = (ENVELOPES / "rest_post_users_partial_success.json").read_bytes()
    with pytest.raises(GwsPartialSuccessError) as caught:
        parse_reply(200, raw)
    assert [item["uri"] for item in caught.value.succeeded] == ["uri1", "uri2"]
    assert caught.value.failed[0]["userName"] == "u3"


def test_http_error_with_success_envelope_is_still_a_failure() -> None:
    with pytest.raises(GwsInternalError) as caught:
        parse_reply(500, b'{"statusCode": 0}')
    assert caught.value.status_code is None


def test_long_messages_are_cut() -> None:
    with pytest.raises(GwsReplyError) as caught:
        parse_reply(200, orjson.dumps({"statusCode": 1, "statusMessage": "x" * 5000}))
    assert len(caught.value.message) < 600


def test_missing_parameter_class_is_the_code_1_class() -> None:
    assert ERRORS_BY_STATUS_CODE[1] is GwsMissingParameterError
    assert ERRORS_BY_STATUS_CODE[3] is GwsOperationForbiddenError


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
status_values = st.none() | st.booleans() | st.integers(-3, 30) | st.text(max_size=12) | json_values


@settings(max_examples=300, deadline=None)
@given(
    http_status=st.sampled_from([200, 201, 204, 400, 401, 403, 404, 500, 503]),
    extra=st.dictionaries(st.text(max_size=12), json_values, max_size=4),
    status_code=status_values,
    status=status_values,
    shape=st.sampled_from(["statusCode", "status", "both", "bare"]),
)
def test_no_envelope_crashes_the_parser(
    http_status: int, extra: dict, status_code: object, status: object, shape: str
) -> None:
    body = dict(extra)
    if shape in ("statusCode", "both"):
        body["statusCode"] = status_code
    if shape in ("status", "both"):
        body["status"] = status
    try:
        result = parse_reply(http_status, json.dumps(body).encode())
    except GwsError as error:
        assert error.status_code is None or isinstance(error.status_code, int)
        assert isinstance(error.message, str)
    else:
        assert result == body
        assert 200 <= http_status < 300


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=64), http_status=st.sampled_from([200, 400, 503]))
def test_arbitrary_bytes_never_crash_the_parser(raw: bytes, http_status: int) -> None:
    try:
        parse_reply(http_status, raw)
    except GwsError:
        pass
