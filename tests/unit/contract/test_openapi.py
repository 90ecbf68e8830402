"""docs/openapi.json: generated from the action table, committed, and valid OpenAPI 3.1."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from bridge.cli import main
from bridge.commands import ACTIONS
from bridge.inbound.openapi import openapi_bytes, openapi_document
from bridge.inbound.openapi_schemas import action_example, action_schema_name
from bridge.inbound.problems import PROBLEM_KINDS
from tests.plugins.contract import OPENAPI, openapi_problems
from tests.plugins.contract import openapi_document as committed

REGENERATE = "regenerate with: .venv/bin/gws-bridge openapi docs/openapi.json"


def test_the_committed_document_is_what_the_code_generates() -> None:
    assert OPENAPI.read_bytes() == openapi_bytes(), REGENERATE
    assert main(["openapi", str(OPENAPI), "--check"]) == 0


def test_check_reports_a_stale_or_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "openapi.json"
    assert main(["openapi", str(out), "--check"]) == 1
    assert main(["openapi", str(out)]) == 0
    assert out.read_bytes() == openapi_bytes()
    assert main(["openapi", str(out), "--check"]) == 0
    out.write_text("{}")
    assert main(["openapi", str(out), "--check"]) == 1
    assert f"{out}: differs" in capsys.readouterr().err


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(committed())  # raises, naming what is wrong


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.update(openapi="3.1"),
        lambda d: d["paths"]["/v1/commands/{id}"]["get"].update(parameters=[]),  # {id} undeclared
        lambda d: d["components"]["schemas"]["Command"]["oneOf"].append(
            {"$ref": "#/components/schemas/Nope"}
        ),
        lambda d: d["paths"]["/v1/cti"]["post"].update(operationId="postCommand"),  # not unique
        lambda d: d["components"]["securitySchemes"]["apiKey"].update(type="bearer"),
    ],
)
def test_the_validator_refuses_a_broken_document(break_it: Any) -> None:
    document = copy.deepcopy(openapi_document())
    break_it(document)
    with pytest.raises((OpenAPIValidationError, Unresolvable)):
        validate(document)


def test_every_action_of_the_table_is_one_branch_with_its_params_schema() -> None:
    schemas = committed()["components"]["schemas"]
    command = schemas["Command"]
    assert command["discriminator"]["propertyName"] == "action"
    assert list(command["discriminator"]["mapping"]) == list(ACTIONS)
    assert [branch["$ref"] for branch in command["oneOf"]] == list(
        command["discriminator"]["mapping"].values()
    )
    for action, spec in ACTIONS.items():
        branch = schemas[action_schema_name(action)]
        assert branch["properties"]["action"] == {"const": action}
        assert branch["properties"]["params"] == {"$ref": f"#/components/schemas/{spec.params.__name__}"}
        params = schemas[spec.params.__name__]
        assert params["additionalProperties"] is False
        assert set(params["properties"]) == set(spec.params.model_fields)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_actions_example_is_valid_for_the_code_and_the_document(action: str) -> None:
    spec = ACTIONS[action]
    example = action_example(spec)
    assert example is not None, (
        f"{action}: {spec.params.__name__} has required fields but no example; declare one with "
        "model_config = _examples({...}) in bridge/commands/params.py"
    )
    spec.params.model_validate(example)  # the code accepts it
    body = {"agent": "agent0001", "action": action, "params": example}
    assert openapi_problems("#/components/schemas/Command", body) == []
    wrong = {"agent": "agent0001", "action": action, "params": {**example, "no_such_param": 1}}
    assert openapi_problems("#/components/schemas/Command", wrong)


def test_every_problem_kind_is_documented_with_its_statuses() -> None:
    document = committed()
    kinds = document["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
    responses = document["components"]["responses"]
    for kind in PROBLEM_KINDS.values():
        assert f"`{kind.name}`" in kinds
        for status in kind.statuses:
            assert f"`{kind.name}`" in responses[str(status)]["description"]


def test_the_document_names_no_deployment() -> None:
    text = OPENAPI.read_text(encoding="utf-8")
    assert "servers" not in committed()
    assert "whsec_" not in text.replace("`whsec_`", "")  # the scheme is named, never a secret
