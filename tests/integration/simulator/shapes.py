"""Compare what the simulator sends with the seed samples in tests/fixtures/simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "simulator"

# keys GWS includes only when they apply (toast/case/userData/parentCallUri/…), see gws-quirks D3, E6
OPTIONAL_KEYS = {
    "userData", "toast", "case", "parentCallUri", "recordingState", "monitoring", "forwardTo",
    "supervisorMonitoringState", "startDate", "threadId", "outQueues", "capabilities", "parentId",
}  # fmt: skip


# free-form values: keyed by data (userData, queue names) or heterogeneous lists (chat events, quirk C6)
FREE_FORM_KEYS = {"userData", "inQueues", "outQueues", "events"}


def sample(name: str) -> Any:
    """A fixture by file name (without ``.json``)."""
    return orjson.loads((FIXTURES / f"{name}.json").read_bytes())


def sample_message(name: str) -> dict[str, Any]:
    """The notification in a CometD sample (first non-meta element of an array sample)."""
    loaded = sample(name)
    if isinstance(loaded, list):
        loaded = next(item for item in loaded if not str(item.get("channel", "")).startswith("/meta/"))
    assert isinstance(loaded, dict)
    return loaded


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def shape_differences(
    actual: Any, expected: Any, path: str = "", *, skip: frozenset[str] = frozenset()
) -> list[str]:
    """Where ``actual`` differs in keys or JSON types from ``expected`` (values are not compared).

    Free-form values (userData, queues, chat events) are skipped; lists are compared by their first elements.
    """
    problems: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) - set(actual) - OPTIONAL_KEYS):
            problems.append(f"{path}.{key}: missing")
        for key in sorted(set(actual) - set(expected) - OPTIONAL_KEYS):
            problems.append(f"{path}.{key}: unexpected")
        for key in set(expected) & set(actual):
            if key in skip or key in FREE_FORM_KEYS or expected[key] is None or actual[key] is None:
                continue
            problems += shape_differences(actual[key], expected[key], f"{path}.{key}", skip=skip)
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if expected and actual:
            problems += shape_differences(actual[0], expected[0], f"{path}[0]", skip=skip)
        return problems
    if _kind(actual) != _kind(expected):
        problems.append(f"{path}: {_kind(actual)} instead of {_kind(expected)}")
    return problems


def assert_same_shape(actual: Any, sample_name: str, *, skip: frozenset[str] = frozenset()) -> None:
    expected = sample_message(sample_name)
    problems = shape_differences(actual, expected, skip=skip)
    assert not problems, f"differs from {sample_name}: {problems}"
