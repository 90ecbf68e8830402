"""``gws-bridge subscriber`` wraps the Celery sink in a GroupCommitSink; the batching options are checked."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bridge.delivery.sink import CeleryEventSink
from bridge.events import EventSink
from bridge.gws.sinks import GroupCommitSink, PrintEventSink
from bridge.processes import subscriber

ROOT = Path(__file__).resolve().parents[3]


def sink_for(*argv: str) -> EventSink:
    """The sink ``gws-bridge subscriber ARGV`` would hand its events to."""
    parser = argparse.ArgumentParser()
    subscriber.add_arguments(parser)
    args = parser.parse_args(list(argv))
    return subscriber.build_sink(args, subscriber.build_settings(args))


async def test_the_celery_sink_is_group_committed_with_the_given_limits(redis_url: str) -> None:
    sink = sink_for("--redis-url", redis_url, "--batch-max-events", "250", "--batch-max-delay", "0.005")
    assert isinstance(sink, GroupCommitSink)
    try:
        assert isinstance(sink.inner, CeleryEventSink)
        assert (sink.max_events, sink.max_delay) == (250, 0.005)
        assert sink.max_pending >= sink.max_events
    finally:
        await sink.aclose()  # closes the Celery sink too


async def test_batch_max_events_1_turns_grouping_off(redis_url: str) -> None:
    sink = sink_for("--redis-url", redis_url, "--batch-max-events", "1")
    assert isinstance(sink, CeleryEventSink)
    await sink.aclose()


def test_print_events_is_not_wrapped() -> None:
    assert isinstance(sink_for("--print-events"), PrintEventSink)


def test_a_batch_limit_below_one_is_a_configuration_error() -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "bridge.cli", "subscriber", "--print-events",
            "--gws-url", "http://127.0.0.1:9", "--agent", "a:b", "--batch-max-events", "0",
        ],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"--batch-max-events" in result.stderr
