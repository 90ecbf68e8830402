"""``gws-bridge receiver --config FILE`` serves health and commands as a process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson

from bridge.config.inbound import hash_api_key
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle

ROOT = Path(__file__).resolve().parents[3]


async def _wait_for(http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert process.returncode is None, "receiver exited"
        assert time.monotonic() < deadline, f"{url} did not answer"
        await asyncio.sleep(0.05)


async def test_receiver_process_answers_health_and_commands(
    simulator: SimulatorHandle, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'redis_url = "{redis_url}"\n[gws]\nbase_url = "{simulator.base_url}"\n'
        '[[agents]]\nusername = "agent0001"\npassword = "password"\n'
        f'[inbound]\nport = {port}\n[[inbound.clients]]\nname = "crm"\n'
        f'api_key_hashes = ["{hash_api_key("k")}"]\nagents = ["*"]\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["-m", "bridge.cli", "receiver", "--log-level", "WARNING", "--config", str(config)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await _wait_for(http, f"http://127.0.0.1:{port}/healthz", process)
            async with http.post(
                f"http://127.0.0.1:{port}/v1/commands",
                data=orjson.dumps({"agent": "agent0001", "action": "agent.ready"}),
                headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
            ) as response:
                assert response.status == 202, await response.text()
        entries = await simulator.log()
        assert [e["body"] for e in entries if e["method"] == "POST"] == [{"operationName": "Ready"}]
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


def test_a_bad_configuration_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[inbound]\nclients = [{name = "x", api_key_hashes = ["raw-key"]}]\n')
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "receiver", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert b"raw-key" not in result.stdout + result.stderr


def test_a_port_in_use_is_one_line_naming_the_setting_not_a_traceback(redis_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "bridge.toml"
        config.write_text(f'redis_url = "{redis_url}"\n[inbound]\nport = {port}\n[console]\nport = {port}\n')
        for command, section in (("receiver", "[inbound]"), ("console", "[console]")):
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bridge.cli",
                    command,
                    "--config",
                    str(config),
                    "--log-format",
                    "text",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == 2, result.stderr[-2000:]
            assert "Traceback" not in result.stderr, result.stderr[-2000:]
            expected = f"gws-bridge {command}: cannot listen on 127.0.0.1:{port} ({section} host and port"
            assert expected in result.stderr, result.stderr[-2000:]
