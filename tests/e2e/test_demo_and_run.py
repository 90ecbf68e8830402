"""``gws-bridge demo`` and ``gws-bridge run`` as a user runs them: real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.plugins.e2e import BridgeStack

StackFactory = Callable[..., Awaitable[BridgeStack]]

REPO = Path(__file__).resolve().parents[2]


def _child_pids(parent: int) -> set[int]:
    """Processes whose parent is ``parent`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: set[int], within: float) -> set[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = {pid for pid in pids if _alive(pid)}
        if not alive:
            return set()
        time.sleep(0.1)
    return {pid for pid in pids if _alive(pid)}


def _demo(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "demo", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )


def _read_until(process: subprocess.Popen[str], marker: str, within: float) -> list[str]:
    """Lines of stdout up to and including the first containing ``marker``."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    pytest.fail(f"no {marker!r} within {within}s; got:\n{''.join(lines)}")


def _started_pids(lines: list[str]) -> set[int]:
    return {int(pid) for pid in re.findall(r"\(pid (\d+)\)", "".join(lines))}


@pytest.mark.slow
def test_demo_plays_the_day_through_the_bridge_and_prints_a_summary() -> None:
    process = _demo("--duration", "16", "--agents", "2")
    stdout, stderr = process.communicate(timeout=90)
    assert process.returncode == 0, stderr[-3000:]
    lines = stdout.splitlines()
    for event_type in ("call.ringing", "call.established", "call.data_changed", "call.disposition_set",
                       "call.released", "agent.state_changed", "interaction.invited",
                       "interaction.accepted", "service.state_changed"):  # fmt: skip
        assert any(f"CRM ✓ {event_type}" in line for line in lines), event_type
    assert any("reason=OutToLunch" in line for line in lines)
    # the later calls (when a loaded machine lets the 16 s reach them) follow agent0001's Ready
    lunch = next(i for i, line in enumerate(lines) if "reason=OutToLunch" in line)
    calls = [i for i, line in enumerate(lines) if "another call for" in line]
    if calls:
        back = next(i for i, line in enumerate(lines) if "agent0001 is back from lunch" in line)
        ready = next(i for i, line in enumerate(lines) if i > back and "CRM ✓ agent.state_changed" in line
                     and "agent0001" in line and "state=Ready previous_state=NotReady" in line)  # fmt: skip
        assert lunch < back < ready < calls[0], stdout[-3000:]
    assert any("CMD   call.answer" in line and "202" in line for line in lines)
    [summary] = [line for line in lines if line.startswith("summary:")]
    assert int(summary.split()[1]) >= 15
    assert "0 repeated deliveries, 0 bad signatures" in summary
    assert "0 refused" in stdout
    assert "NOT durable" in stdout
    console = r"operator console: http://127\.0\.0\.1:\d+/ +\(viewer key viewer-\S+, operator key operator-"
    assert any(re.search(console, line) for line in lines)
    assert "Traceback" not in stderr
    assert not _wait_gone(_started_pids(lines), 5)


@pytest.mark.slow
def test_demo_stops_on_ctrl_c_with_a_summary_and_leaves_no_process() -> None:
    process = _demo("--duration", "120", "--agents", "1")
    try:
        lines = _read_until(process, "the bridge is up", within=60)
        children = _child_pids(process.pid)
        assert len(children) >= 4  # redis-server, worker, subscriber, receiver
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    assert any(line.startswith("summary:") for line in stdout.splitlines())
    assert not _wait_gone(children | _started_pids(lines), 5)


@pytest.mark.slow
def test_demo_interrupted_while_starting_stops_everything_with_a_summary() -> None:
    process = _demo("--duration", "120", "--agents", "1")
    try:
        lines = _read_until(process, "started worker", within=30)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    assert "interrupted while the bridge was starting" in stdout
    assert any(line.startswith("summary:") for line in stdout.splitlines())
    assert not _wait_gone(_started_pids(lines), 5)


@pytest.mark.slow
def test_demo_killed_outright_leaves_no_process() -> None:
    process = _demo("--duration", "120", "--agents", "1")
    try:
        lines = _read_until(process, "the bridge is up", within=60)
        [logs] = re.findall(r"logs in (/\S+gwsb-demo-\S+)", "".join(lines))
        children = _child_pids(process.pid)
        assert len(children) >= 4
        process.kill()  # no handler runs: the kernel's parent-death signal must stop the children
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert not _wait_gone(children, 20)
    shutil.rmtree(logs, ignore_errors=True)  # nobody was left to remove it


@pytest.mark.slow
def test_demo_whose_worker_dies_exits_1_and_keeps_the_log_it_points_to() -> None:
    process = _demo("--duration", "120", "--agents", "1")
    try:
        lines = _read_until(process, "the bridge is up", within=60)
        [worker] = re.findall(r"worker \(pid (\d+)\)", "".join(lines))
        os.kill(int(worker), signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1, stderr[-3000:]
    found = re.search(r"worker stopped unexpectedly \(killed by SIGKILL\); see (\S+)", stdout)
    assert found, stdout[-3000:]
    log = Path(found.group(1))
    try:
        assert log.is_file() and f"the processes' logs are kept in {log.parent}" in stdout
        assert (log.parent / "bridge.toml").is_file() and (log.parent / "redis" / "redis.log").is_file()
    finally:
        if log.parent.name.startswith("gwsb-demo-"):
            shutil.rmtree(log.parent, ignore_errors=True)
    assert any(line.startswith("summary:") for line in stdout.splitlines())
    assert not _wait_gone(_started_pids(lines), 5)


def test_demo_without_redis_says_how_to_get_it() -> None:
    process = _demo("--duration", "5", env={"PATH": str(Path(sys.executable).parent), "REDIS_URL": ""})
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "redis-server is not on PATH" in stderr
    assert "apt-get install redis-server" in stderr
    assert "logs are kept" not in stdout  # no process started: nothing to keep


def _run_node(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "run", "--config", str(config), "--grace", "15", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
async def test_run_starts_a_node_that_delivers_and_stops_on_sigterm(bridge_stack: StackFactory) -> None:
    stack = await bridge_stack(agents=2)
    node = _run_node(stack.config, "--workers", "2")
    try:
        await stack.wait_ready(within=40)
        await stack.wait_until("the receiver", stack.receiver_healthy, within=30)
        children = _child_pids(node.pid)
        assert len(children) == 4  # subscriber, two workers, receiver
        call_id = await stack.sim.start_call(stack.sim.agents[0])
        await stack.wait_until(
            "call.ringing",
            lambda: any(
                e.event["data"].get("call_id") == call_id for e in stack.sink.of_type("call.ringing")
            ),
            within=20,
        )
        status, body = await stack.command(stack.sim.agents[0], "call.answer", call_id=call_id)
        assert status == 202, body
        node.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(node.communicate, None, 40)
    finally:
        if node.poll() is None:
            node.kill()
            node.communicate()
    assert node.returncode == 0, output[-3000:]
    assert "node stopped" in output
    assert not _wait_gone(children, 5)


@pytest.mark.slow
async def test_run_exits_non_zero_when_a_child_dies(bridge_stack: StackFactory) -> None:
    stack = await bridge_stack(agents=1)
    node = _run_node(stack.config, "--no-receiver")
    try:
        await stack.wait_ready(within=40)
        children = _child_pids(node.pid)
        assert len(children) == 2
        os.kill(min(children), signal.SIGKILL)  # the subscriber (started first)
        output, _ = await asyncio.to_thread(node.communicate, None, 40)
    finally:
        if node.poll() is None:
            node.kill()
            node.communicate()
    assert node.returncode == 1, output[-3000:]
    assert re.search(r"subscriber-1 stopped unexpectedly \(killed by SIGKILL\)", output), output[-3000:]
    assert not _wait_gone(children, 5)


def test_run_refuses_a_bad_configuration_before_starting_anything(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[routes]]\nevents = ["*"]\ndestinations = ["nowhere"]\n', encoding="utf-8")
    node = _run_node(config)
    output, _ = node.communicate(timeout=60)
    assert node.returncode == 2
    assert "unknown destination 'nowhere'" in output or "nowhere" in output
