"""What the deployment files are checked against: the CLI's own parsers and the metrics in the code.

``defined_metrics()`` reads every Prometheus metric the bridge defines straight from the source
(each ``Counter(…)``, ``Gauge(…)``, ``Histogram(…)``, ``Summary(…)`` of ``prometheus_client``),
so a metric renamed in the code and not in ``deploy/`` fails the deploy tests, and no list of
names is kept here.
"""

from __future__ import annotations

import argparse
import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import promql_parser

from bridge.cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("bridge", "connectors")

# prometheus_client's metric classes and the series each exposes for a family name N
_SERIES_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}
# labels Prometheus itself attaches to every scraped series, or that a histogram adds
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "container", "le"})


@dataclass(frozen=True)
class Metric:
    family: str
    kind: str
    labels: tuple[str, ...]
    defined_at: str

    def series(self) -> set[str]:
        base = self.family.removesuffix("_total") if self.kind == "Counter" else self.family
        return {base + suffix for suffix in _SERIES_SUFFIXES[self.kind]}


def parse_role(command: list[str]) -> tuple[str, argparse.Namespace]:
    """``["worker", "--config", …]`` parsed by that subcommand's own argument parser."""
    name, *rest = command
    assert name in COMMANDS, f"{name!r} is not a gws-bridge subcommand"
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"gws-bridge {name}", exit_on_error=False)
    parser.add_argument("--log-level", default="INFO")
    module.add_arguments(parser)
    return name, parser.parse_args(rest)


def _prometheus_names(tree: ast.Module) -> set[str]:
    """The local names a module binds to prometheus_client's metric classes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "prometheus_client":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in _SERIES_SUFFIXES}
    return names


def defined_metrics() -> dict[str, Metric]:
    """Every metric family defined in the bridge's source, by exposed series name."""
    found: dict[str, Metric] = {}
    for path in sorted(p for source in SOURCES for p in (REPO / source).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = _prometheus_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id not in classes:
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            name = node.args[0] if node.args else keywords.get("name")
            assert isinstance(name, ast.Constant) and isinstance(name.value, str), (
                f"{where}: a metric whose name is not a string literal; tests/plugins/deploy.py cannot see it"
            )
            labels_node = node.args[2] if len(node.args) > 2 else keywords.get("labelnames")
            labels = tuple(ast.literal_eval(labels_node)) if labels_node is not None else ()
            metric = Metric(name.value, node.func.id, labels, where)
            for series in metric.series():
                found[series] = metric
    assert found, "no prometheus_client metric found in the source: has the import style changed?"
    return found


@dataclass(frozen=True)
class Selector:
    metric: str
    labels: frozenset[str]


def promql_selectors(expr: str) -> tuple[list[Selector], set[str]]:
    """The series ``expr`` selects (name and matched labels) and the labels it groups or joins on.

    Raises ``ValueError`` (from the parser) when ``expr`` is not valid PromQL.
    """
    selectors: list[Selector] = []
    grouping: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name in {expr!r}"
            matched = {m.name for m in node.matchers.matchers if m.name != "__name__"}
            selectors.append(Selector(node.name, frozenset(matched)))
        modifier = getattr(node, "modifier", None)
        labels = getattr(modifier, "labels", None) if modifier is not None else None
        if labels:
            grouping.update(labels)
        matching = getattr(modifier, "matching", None) if modifier is not None else None
        if matching is not None and getattr(matching, "labels", None):
            grouping.update(matching.labels)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return selectors, grouping


def promql_problems(expr: str, metrics: dict[str, Metric], where: str) -> list[str]:
    """What in ``expr`` is not valid PromQL or not a metric (or label) the code defines."""
    try:
        selectors, grouping = promql_selectors(expr)
    except ValueError as exc:
        return [f"{where}: not valid PromQL ({exc}): {expr}"]
    problems = []
    known_labels = set(TARGET_LABELS)
    for selector in selectors:
        metric = metrics.get(selector.metric)
        if metric is None:
            problems.append(f"{where}: {selector.metric} is not a metric the code defines")
            continue
        known_labels.update(metric.labels)
        if unknown := selector.labels - set(metric.labels) - TARGET_LABELS:
            problems.append(
                f"{where}: {selector.metric} has no label {sorted(unknown)} ({metric.defined_at})"
            )
    if not selectors:
        problems.append(f"{where}: selects no metric: {expr}")
    if unknown := grouping - known_labels:
        problems.append(f"{where}: groups by labels no selected metric has: {sorted(unknown)}")
    return problems
