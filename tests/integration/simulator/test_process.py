"""``gws-bridge simulate`` as a real process, through the ``simulator_process`` fixture."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from simulator.cli import add_arguments, config_from_args, run


async def test_simulate_process_serves_rest_and_control_api(simulator_process):
    assert simulator_process.agents == [f"agent{i:04d}" for i in range(1, 6)]
    async with simulator_process.agent_client("agent0003") as client:
        me = await client.login()
        assert me["user"]["userName"] == "agent0003"
        assert await client.post("/me", {"operationName": "Ready"}) == (200, {"status": "ok"})
        call_id = await simulator_process.start_call("agent0003")
        _, calls = await client.get("/me/calls?fields=*")
        assert [(c["id"], c["state"], c["dnis"]) for c in calls["calls"]] == [(call_id, "Ringing", "5003")]
    log = await simulator_process.log(agent="agent0003")
    assert [e["method"] for e in log] == ["GET", "POST", "GET"]
    assert (await simulator_process.status())["calls"] == 1


@pytest.mark.slow
def test_simulate_process_can_be_killed_and_restarted(simulator_process_factory):
    handle = simulator_process_factory(agents=2, csrf=False)
    assert handle.process is not None
    handle.process.kill()
    handle.process.start()
    handle.process.stop()


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_options_map_to_config(tmp_path: Path):
    users = tmp_path / "users.toml"
    args = _parse("--port", "9000", "--agents", "7", "--no-csrf", "--session-idle-timeout", "5",
                  "--users-file", str(users))  # fmt: skip
    config = config_from_args(args)
    assert (config.port, config.agents, config.csrf, config.session_idle_timeout) == (9000, 7, False, 5.0)
    assert config.users_file == users and config.url() == "http://127.0.0.1:9000"


async def test_cli_refuses_a_bad_users_file(tmp_path: Path):
    users = tmp_path / "users.toml"
    users.write_text('[[users]]\nuserName = "a"\n')
    assert await run(_parse("--users-file", str(users))) == 2


async def test_cli_refuses_zero_agents_and_a_busy_port(simulator):
    assert await run(_parse("--agents", "0")) == 2
    busy_port = simulator.base_url.rsplit(":", 1)[1]
    assert await run(_parse("--port", busy_port)) == 2
