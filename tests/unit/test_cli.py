"""The ``gws-bridge`` command line: version, help, exit codes, hash-key and log formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import COMMANDS, main, version
from bridge.config.inbound import hash_api_key

ROOT = Path(__file__).resolve().parents[2]


def _gws_bridge(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], input=stdin, cwd=ROOT, text=True,
        capture_output=True, timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"gws-bridge {version()}\n"
    assert version()[0].isdigit()


def test_no_command_is_a_usage_error_with_the_help_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "usage: gws-bridge COMMAND" in captured.err
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_help_lists_every_command_without_importing_any() -> None:
    probe = (
        "import sys; from bridge.cli import main; main(['--help']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('celery', 'aiohttp', 'redis', 'simulator', 'pydantic') or m.startswith('bridge.processes.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, text=True, capture_output=True, timeout=60, check=True
    )
    *help_lines, imported = result.stdout.strip().splitlines()
    assert imported == "['bridge.processes.logs']"  # the log set-up (orjson only), nothing else
    for name in COMMANDS:
        assert any(line.startswith(f"  {name} ") for line in help_lines), name


@pytest.mark.parametrize("command", ["subscriber", "worker", "receiver", "run", "dlq", "destinations",
                                     "check-config"])  # fmt: skip
def test_a_configuration_error_exits_2_on_stderr(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["list"] if command in ("dlq", "destinations") else []
    assert main([command, "--config", str(tmp_path / "absent.toml"), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"gws-bridge {command}: " in captured.err and "no such configuration file" in captured.err


def test_hash_key_reads_stdin_and_prints_the_config_form() -> None:
    result = _gws_bridge("hash-key", stdin="  s3cret-key \n")
    assert result.returncode == 0
    assert result.stdout == hash_api_key("s3cret-key") + "\n"
    assert "s3cret-key" not in result.stdout + result.stderr
    empty = _gws_bridge("hash-key", stdin="\n")
    assert empty.returncode == 2 and "no API key" in empty.stderr


def test_logs_are_json_lines_in_utc_when_not_on_a_terminal() -> None:
    probe = (
        "import logging; from bridge.processes.logs import configure_logging; configure_logging('INFO'); "
        "log = logging.getLogger('bridge.test'); log.info('gws login', extra={'agent': 'a1', 'n': 2}); "
        "\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('failed')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, text=True, capture_output=True, timeout=60, check=True
    )
    first, second = (json.loads(line) for line in result.stderr.splitlines())
    assert first["message"] == "gws login" and first["agent"] == "a1" and first["n"] == 2
    assert first["level"] == "INFO" and first["logger"] == "bridge.test"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert second["level"] == "ERROR" and "ZeroDivisionError" in second["exception"]


def test_text_logs_carry_utc_times_and_extras() -> None:
    probe = (
        "import logging; from bridge.processes.logs import configure_logging; "
        "configure_logging('INFO', 'text'); logging.getLogger('x').warning('w', extra={'destination': 'crm'})"
    )
    line = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, text=True, capture_output=True, timeout=60, check=True
    ).stderr.strip()
    stamp, level, logger, rest = line.split(" ", 3)
    assert stamp.endswith("Z") and (level, logger) == ("WARNING", "x") and rest == "w destination='crm'"
