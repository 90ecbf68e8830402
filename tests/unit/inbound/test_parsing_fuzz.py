"""Whatever the body, parsing ends in a Command or a clear refusal — never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.commands import ACTIONS
from bridge.errors import CommandError
from bridge.inbound.json_dialect import parse_json_command
from bridge.inbound.problems import Problem

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "agent": st.one_of(st.text(max_size=20), json_values),
        "action": st.one_of(st.sampled_from(sorted(ACTIONS)), st.text(max_size=20), json_values),
        "params": st.one_of(
            st.dictionaries(
                st.sampled_from(["call_id", "digits", "user_data", "destination", "operation", "on", "x"]),
                json_values,
                max_size=4,
            ),
            json_values,
        ),
        "extra": json_values,
    },
)


def _outcome(body: bytes) -> str:
    try:
        parse_json_command(body, None)
    except Problem as problem:
        assert problem.status == 400
        return "400"
    except CommandError as error:
        assert error.status == 422
        assert all("loc" in item for item in error.errors)
        return "422"
    return "ok"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_refused_cleanly(body: bytes) -> None:
    assert _outcome(body) in {"400", "422", "ok"}


@settings(max_examples=150, deadline=None)
@given(envelopes)
def test_arbitrary_envelopes_parse_or_give_field_errors(document: dict[str, Any]) -> None:
    assert _outcome(json.dumps(document).encode()) in {"422", "ok"}
