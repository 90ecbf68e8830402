"""Command params are strict: no string or number for a boolean, no float or string for an integer."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from bridge.commands import ACTIONS, build_command
from bridge.commands.params import ParamsModel
from bridge.errors import CommandError


@pytest.mark.parametrize("loose", ["yes", 1, 0, "true", "1", 0.0, 1.0, "on", None, [], {}])
def test_dnd_takes_only_a_json_boolean(loose: Any) -> None:
    with pytest.raises(CommandError) as caught:
        build_command(agent="agent0001", action="agent.dnd", params={"on": loose})
    assert caught.value.status == 422 and caught.value.errors[0]["loc"] == ["params", "on"]


def test_dnd_true_and_false_pass() -> None:
    assert build_command(agent="a", action="agent.dnd", params={"on": True}).params == {"on": True}
    assert build_command(agent="a", action="agent.dnd", params={"on": False}).params == {"on": False}


def test_every_action_schema_is_strict() -> None:
    for action, spec in ACTIONS.items():
        assert spec.params.model_config.get("strict") is True, action


class _Counted(ParamsModel):
    count: Annotated[int, Field(ge=0)]


@pytest.mark.parametrize("loose", [1.0, 2.5, "3", True])
def test_an_integer_param_takes_no_float_string_or_boolean(loose: Any) -> None:
    with pytest.raises(ValidationError):
        _Counted.model_validate({"count": loose})
    assert _Counted.model_validate({"count": 3}).count == 3


@pytest.mark.parametrize("loose", [5001, 5001.0, True])
def test_a_string_param_takes_no_number(loose: Any) -> None:
    with pytest.raises(CommandError) as caught:
        build_command(agent="a", action="call.dial", params={"destination": loose})
    assert caught.value.errors[0]["loc"] == ["params", "destination"]
