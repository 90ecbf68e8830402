"""deploy/grafana/gws-bridge.json: a dashboard that answers the operator's four questions.

Are events flowing, are deliveries failing, is anything disabled, is the dead-letter queue
growing: one row each, every query valid PromQL on metrics the code defines, and every metric
the code defines on some panel.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from tests.plugins.deploy import REPO, defined_metrics, promql_problems, promql_selectors

DASHBOARD = REPO / "deploy" / "grafana" / "gws-bridge.json"
QUESTIONS = [
    "Are events flowing?",
    "Are deliveries failing?",
    "Is anything disabled?",
    "Is the dead-letter queue growing?",
]
# Grafana's interval variables, as Prometheus receives them
_GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "30s", "$__range": "6h"}


def _promql(expr: str) -> str:
    for variable, value in _GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_one_row_per_question_each_with_panels_below_it(dashboard: dict[str, Any]) -> None:
    rows = [(i, panel["title"]) for i, panel in enumerate(dashboard["panels"]) if panel["type"] == "row"]
    assert [title for _, title in rows][: len(QUESTIONS)] == QUESTIONS
    for (start, title), (end, _) in itertools.pairwise([*rows, (len(dashboard["panels"]), "")]):
        assert end - start > 1, f"row {title!r} has no panel"


def test_every_query_is_promql_on_metrics_and_labels_the_code_defines(dashboard: dict[str, Any]) -> None:
    metrics = defined_metrics()
    problems = []
    for panel in _panels(dashboard):
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            problems += promql_problems(_promql(target["expr"]), metrics, repr(panel["title"]))
    assert not problems, "\n".join(problems)


def test_every_metric_the_code_defines_is_on_the_dashboard(dashboard: dict[str, Any]) -> None:
    metrics = defined_metrics()
    shown = {
        metrics[selector.metric].family
        for panel in _panels(dashboard)
        for target in panel["targets"]
        for selector in promql_selectors(_promql(target["expr"]))[0]
        if selector.metric in metrics
    }
    missing = {metric.family for metric in metrics.values()} - shown
    assert not missing, f"no panel shows {sorted(missing)}: add one to {DASHBOARD.name}"


def test_panels_use_the_datasource_variable_and_do_not_overlap(dashboard: dict[str, Any]) -> None:
    assert {"name": "datasource", "type": "datasource", "query": "prometheus"}.items() <= (
        dashboard["templating"]["list"][0].items()
    )
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        columns, lines = range(box["x"], box["x"] + box["w"]), range(box["y"], box["y"] + box["h"])
        mine = {(x, y) for x in columns for y in lines}
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        cells |= mine
