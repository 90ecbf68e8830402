"""Every ``Problem`` the code raises has a kind listed in PROBLEM_KINDS (the OpenAPI document lists them)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bridge.inbound.problems import PROBLEM_KINDS, Problem, default_kind

ROOT = Path(__file__).resolve().parents[3]


def _problem_calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem":
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def _kind_of(call: ast.Call) -> str | None:
    """The kind a ``Problem(...)`` call gives, when it is spelt out in the source (None if computed)."""
    for keyword in call.keywords:
        if keyword.arg == "kind":
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, int):
        return default_kind(call.args[0].value)
    return None


def test_every_problem_raised_has_a_listed_kind_and_status() -> None:
    calls = list(_problem_calls())
    assert len(calls) > 20  # the scan found the receiver's refusals
    unlisted = []
    for where, call in calls:
        kind = _kind_of(call)
        if kind is None:
            continue
        status = call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else None
        listed = PROBLEM_KINDS.get(kind)
        if listed is None or (status is not None and status not in listed.statuses):
            unlisted.append(f"{where}: Problem({status}, kind={kind!r})")
    where = "add these kinds (or statuses) to PROBLEM_KINDS in bridge/inbound/problems.py"
    assert not unlisted, where + ":\n" + "\n".join(unlisted)


def test_a_command_error_becomes_a_listed_kind() -> None:
    for status in (409, 422):  # the statuses CommandError is raised with (bridge/commands)
        assert Problem(status, "x").kind in PROBLEM_KINDS
