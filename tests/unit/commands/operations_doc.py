"""docs/commands.md's operation table, built from the code: the operation table
(``bridge.gws.operations.builders.OPERATIONS``), the action table (``ACTIONS``: which action
sends which operation, found by translating each action's example), the CTI mapping and the
Slack gestures (``SLACK_ACTIONS``).

``python -m tests.unit.commands.operations_doc`` rewrites the table in place."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from bridge.commands import AgentContext, build_command, translate
from bridge.commands.actions import WITHOUT_ACTION
from bridge.gws.operations.builders import OPERATIONS, OperationSpec
from bridge.inbound.cti import CTI_ACTIONS
from bridge.inbound.slack_commands import SLACK_ACTIONS

DOC = Path(__file__).parents[3] / "docs" / "commands.md"
BEGIN, END = "<!-- operations:begin -->", "<!-- operations:end -->"


def _matches(spec: OperationSpec, method: str, path: str, name: str | None) -> bool:
    paths = [p for p in (spec.path, spec.alternate_path) if p]
    patterns = ["^" + re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(p)) + "$" for p in paths]
    if spec.method != method or not any(re.match(pattern, path) for pattern in patterns):
        return False
    if "<" in spec.key:  # a family: any operationName not claimed by a named entry
        return name is not None
    if spec.operation_name is None:
        return name is None
    return name in spec.operation_name.replace(" ", "/").replace("(", "").replace(")", "").split("/")


def operation_of(method: str, path: str, name: str | None) -> str:
    """The OPERATIONS key that a request is (named entries before families); KeyError if none."""
    specs = sorted(OPERATIONS.values(), key=lambda s: "<" in s.key)
    for spec in specs:
        if _matches(spec, method, path, name):
            return spec.key
    raise KeyError(f"{method} {path} {name}: not in the operation table")


def actions_by_operation(examples: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Which actions send each operation, by translating every example of every action."""
    found: dict[str, list[str]] = {}
    for action, params_list in examples.items():
        for params in params_list:
            request, _ = translate(build_command(agent="a", action=action, params=params), _context(action))
            name = (request.body or {}).get("operationName")
            key = operation_of(request.method, request.path, name)
            if action not in found.setdefault(key, []):
                found[key].append(action)
    return found


def _context(action: str) -> AgentContext:
    # the unit tests' context: a device, agent states and dispositions from the seed samples
    from tests.unit.commands.test_translate import CONTEXT

    return CONTEXT


def table(examples: dict[str, list[dict[str, Any]]]) -> str:
    by_operation = actions_by_operation(examples)
    cti: dict[str, list[str]] = {}
    for subtopic, actions in CTI_ACTIONS.items():
        for action in actions:
            cti.setdefault(action, []).append(subtopic)
    slack: dict[str, list[str]] = {}
    for gesture, action in SLACK_ACTIONS.items():
        slack.setdefault(action, []).append(gesture)
    lines = [
        "| operation | request (under `/api/v2`) | action | CTI | Slack | confirmed by | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, spec in OPERATIONS.items():
        actions = by_operation.get(key, [])
        if actions:
            action_cell = ", ".join(f"`{a}`" for a in actions)
        else:
            action_cell = f"none: {WITHOUT_ACTION[key]}"
        subtopics = sorted({s for a in actions for s in cti.get(a, [])})
        cti_cell = ", ".join(f"`{s}`" for s in subtopics) or "\u2013"  # an en dash, as in the other tables
        gestures = [g for a in actions for g in slack.get(a, [])]
        slack_cell = ", ".join(dict.fromkeys(gestures)).replace("|", "\\|") or "\u2013"
        request = f"`{spec.method} {spec.path}`" + (
            f" `{spec.operation_name}`" if spec.operation_name else ""
        )
        confirms = spec.confirms.replace("|", "\\|")
        cells = [f"`{key}`", request, action_cell, cti_cell, slack_cell, confirms, spec.source]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rendered(doc: str, examples: dict[str, list[dict[str, Any]]]) -> str:
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    return doc[:start] + "\n" + table(examples) + "\n" + doc[end:]


def main() -> None:
    from tests.unit.commands.test_translate import examples_by_action

    DOC.write_text(rendered(DOC.read_text(encoding="utf-8"), examples_by_action()), encoding="utf-8")
    sys.stdout.write(f"rewrote the operation table in {DOC}\n")


if __name__ == "__main__":
    main()
