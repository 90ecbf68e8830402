"""deploy/prometheus/alerts.yml: well-formed rules, valid PromQL on the code's metrics, documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.plugins.deploy import REPO, defined_metrics, promql_problems

RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
OPERATIONS = REPO / "docs" / "operations.md"
_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(Path(RULES).read_text(encoding="utf-8"))
    assert set(loaded) == {"groups"}
    found = []
    for group in loaded["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"]
        found += group["rules"]
    return found


def test_every_rule_is_a_complete_alert(rules: list[dict[str, Any]]) -> None:
    names = [rule.get("alert") for rule in rules]
    assert len(names) == len(set(names)) and all(names), names
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule
        assert re.fullmatch(r"GwsBridge[A-Za-z]+", rule["alert"])
        assert _DURATION.match(rule.get("for", "0s")), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_every_expression_is_promql_on_metrics_and_labels_the_code_defines(
    rules: list[dict[str, Any]],
) -> None:
    metrics = defined_metrics()
    problems = [p for rule in rules for p in promql_problems(rule["expr"], metrics, rule["alert"])]
    assert not problems, "\n".join(problems)


def test_annotations_name_only_labels_the_expression_keeps(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        used = set(re.findall(r"\$labels\.(\w+)", " ".join(rule["annotations"].values())))
        if not used:
            continue
        [grouping] = re.findall(r"\bby \(([^)]*)\)", rule["expr"])[:1] or [""]
        kept = {label.strip() for label in grouping.split(",")}
        assert used <= kept, f"{rule['alert']}: annotations use {used - kept}, which the expression drops"


def test_docs_operations_lists_exactly_these_alerts(rules: list[dict[str, Any]]) -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(GwsBridge\w+)` \|", text, flags=re.MULTILINE))
    assert documented == {rule["alert"] for rule in rules}
