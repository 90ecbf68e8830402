"""The metrics read from the source (tests/plugins/deploy.py) are the ones the registries expose."""

from __future__ import annotations

from prometheus_client import REGISTRY

# imported for their metrics, defined in the default registry at import
import bridge.delivery.metrics
import bridge.processes.heartbeat  # noqa: F401
from bridge.inbound.metrics import ReceiverMetrics
from tests.plugins.deploy import Metric, defined_metrics, promql_problems

_KINDS = {"counter": "Counter", "gauge": "Gauge", "histogram": "Histogram", "summary": "Summary"}
# created when the subscriber starts serving metrics (bridge/processes/subscriber_status.py), not at import
_STARTED_BY_THE_SUBSCRIBER = "bridge/processes/subscriber_status.py"


def test_every_registered_metric_is_found_in_the_source_with_its_kind_and_series() -> None:
    defined = defined_metrics()
    families: dict[str, str] = {}
    for registry in (REGISTRY, ReceiverMetrics().registry):
        for family in registry.collect():
            if not family.name.startswith("gwsb_"):
                continue
            families[family.name] = _KINDS[family.type]
            for sample in family.samples:  # labelled families have none before their first use
                assert sample.name in defined, f"{sample.name} is exposed but not found in the source"
                assert defined[sample.name].kind == _KINDS[family.type], sample.name
    assert families, "no gwsb_ metric registered"
    by_family = {metric.family.removesuffix("_total"): metric for metric in defined.values()}
    for name, kind in families.items():
        assert name in by_family and by_family[name].kind == kind, f"{name} ({kind}) is registered"
    for name, metric in by_family.items():
        if not metric.defined_at.startswith(_STARTED_BY_THE_SUBSCRIBER):
            assert name in families, f"{name} ({metric.defined_at}) is in the source but not registered"


def test_an_expression_naming_an_unknown_metric_or_label_is_refused() -> None:
    jobs = Metric("jobs", "Counter", ("queue", "outcome"), "here.py:1")
    depth = Metric("depth", "Gauge", (), "here.py:2")
    metrics = {series: metric for metric in (jobs, depth) for series in metric.series()}
    assert set(metrics) == {"jobs_total", "jobs_created", "depth"}
    valid = 'sum by (queue) (rate(jobs_total{outcome="dead"}[5m])) > depth'
    assert promql_problems(valid, metrics, "x") == []
    assert promql_problems("rate(jobs[5m])", metrics, "x") == ["x: jobs is not a metric the code defines"]
    [label] = promql_problems('depth{queue="a"}', metrics, "x")
    assert label == "x: depth has no label ['queue'] (here.py:2)"
    assert promql_problems("sum by (agent) (depth)", metrics, "x") == [
        "x: groups by labels no selected metric has: ['agent']"
    ]
    [syntax] = promql_problems("rate(depth[5m]", metrics, "x")
    assert syntax.startswith("x: not valid PromQL")


def test_every_metric_the_docs_name_is_a_series_prometheus_exposes() -> None:
    """PromQL copied from the docs must find something: exact series names (``…_total``, ``…_bucket``)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    defined = defined_metrics()
    unknown = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "deploy" / "README.md"]:
        for line_number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for name in re.findall(r"\bgwsb_[a-z_]+[a-z]\b", line):
                if name not in defined:
                    unknown.append(f"{doc.relative_to(root)}:{line_number}: {name}")
    assert not unknown, "\n".join(unknown)
