"""The input limits: each one at its boundary, the field named, and no recursion on deep input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bridge.commands import build_command
from bridge.commands.limits import LIMITS, InputLimits, check_input, input_violations
from bridge.errors import CommandError


def nested(levels: int, leaf: Any = "x") -> Any:
    """``levels`` objects inside one another (``{"k": {"k": … leaf}}``)."""
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


def test_the_documented_limits() -> None:
    assert (LIMITS.max_depth, LIMITS.max_entries, LIMITS.max_key_length, LIMITS.max_string_length) == (
        32,
        1000,
        256,
        4096,
    )


def test_depth_up_to_the_limit_passes_and_one_more_is_named_where_it_starts() -> None:
    assert input_violations(nested(32)) == []
    assert input_violations([nested(31)]) == []
    (error,) = input_violations({"params": {"user_data": nested(31)}}, loc=())
    assert error["type"] == "too_deep" and error["loc"][:2] == ["params", "user_data"]
    assert len(error["loc"]) == 32  # the path to the 33rd container


def test_a_document_as_deep_as_the_json_parser_allows_is_walked_without_recursion() -> None:
    deep = orjson.loads(b"[" * 1000 + b"]" * 1000)
    (error,) = input_violations(deep)
    assert error["type"] == "too_deep"


def test_keys_and_array_items_are_counted_over_the_whole_document() -> None:
    assert input_violations({"a": list(range(499)), "b": {str(i): i for i in range(499)}}) == []
    (error,) = input_violations({"a": list(range(500)), "b": {str(i): i for i in range(499)}})
    assert error["type"] == "too_many_entries"


@pytest.mark.parametrize(
    ("document", "loc", "kind"),
    [
        ({"user_data": {"k" * 257: 1}}, ["user_data", "k" * 64 + "…"], "key_too_long"),
        ({"user_data": {"Notes": "n" * 4097}}, ["user_data", "Notes"], "string_too_long"),
        ({"list": ["ok", "s" * 4097]}, ["list", "1"], "string_too_long"),
    ],
)
def test_long_keys_and_strings_are_named_by_their_path(document: Any, loc: list[str], kind: str) -> None:
    (error,) = input_violations(document)
    assert (error["loc"], error["type"]) == (loc, kind)
    assert input_violations({"k" * 256: "s" * 4096}) == []


def test_violations_are_bounded_and_raise_a_422_command_error() -> None:
    many = {f"key{i}": "s" * 5000 for i in range(50)}
    assert len(input_violations(many)) == LIMITS.max_errors
    with pytest.raises(CommandError) as caught:
        check_input(many, loc=["params"], what="the body")
    assert caught.value.status == 422 and caught.value.errors[0]["loc"][0] == "params"
    assert "s" * 100 not in str(caught.value.errors)  # the offending value is never echoed


def test_smaller_limits_can_be_asked_for() -> None:
    assert input_violations(nested(3), limits=InputLimits(max_depth=2))[0]["type"] == "too_deep"


def test_user_data_params_keep_the_limits_whichever_dialect_built_them() -> None:
    params = {"call_id": "c1", "user_data": nested(40)}
    with pytest.raises(CommandError) as caught:
        build_command(agent="agent0001", action="call.attach_data", params=params)
    (error,) = caught.value.errors
    assert error["loc"] == ["params", "user_data"] and error["type"] == "input_limit"
    ok = build_command(
        agent="agent0001", action="call.attach_data", params={"call_id": "c1", "user_data": nested(32)}
    )
    assert ok.params["user_data"] == nested(32)
