"""``gws-bridge subscriber`` wraps the Celery sink in a GroupCommitSink; the batching options are checked."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bridge.delivery.enqueue import CeleryEventSink
from bridge.gws import cli
from bridge.gws.sinks import GroupCommitSink, PrintEventSink
from bridge.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


async def test_the_celery_sink_is_group_committed_with_the_given_limits(redis_url: str) -> None:
    settings = load_settings(None, redis_url=redis_url)
    sink = cli.build_sink(parse("--batch-max-events", "250", "--batch-max-delay", "0.005"), settings)
    assert isinstance(sink, GroupCommitSink)
    try:
        assert isinstance(sink.inner, CeleryEventSink)
        assert (sink.max_events, sink.max_delay) == (250, 0.005)
        assert sink.max_pending >= sink.max_events
    finally:
        await sink.aclose()  # closes the Celery sink too


async def test_batch_max_events_1_turns_grouping_off(redis_url: str) -> None:
    settings = load_settings(None, redis_url=redis_url)
    sink = cli.build_sink(parse("--batch-max-events", "1"), settings)
    assert isinstance(sink, CeleryEventSink)
    await sink.aclose()


def test_print_events_is_not_wrapped() -> None:
    settings = load_settings(None)
    assert isinstance(cli.build_sink(parse("--print-events"), settings), PrintEventSink)


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
