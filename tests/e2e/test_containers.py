"""The container files refer to real things: subcommands, their options, configuration keys, ports.

There is no Docker engine here, so these tests read ``Dockerfile`` and ``docker-compose.yml``:
every bridge service's command parses with that subcommand's own argument parser, the
mounted configuration loads with the compose environment applied, each healthcheck
probes the port its command listens on, and every container runs hardened (read-only root,
no capabilities, no privilege gain, exact image releases). ``docker-compose config``
validates the file too when the tool is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from bridge.config import load_settings
from bridge.delivery.validation import delivery_config_problems
from tests.plugins.deploy import parse_role

REPO = Path(__file__).resolve().parents[2]
IMAGE_CONFIG = "/etc/gws-bridge/bridge.toml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def _bridge_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if svc.get("image") == "gws-bridge:latest"}


def test_compose_has_redis_with_aof_the_simulator_a_subscriber_two_workers_and_the_receiver(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) >= {"redis", "simulator", "subscriber", "worker", "receiver", "console"}
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"
    assert services["worker"]["deploy"]["replicas"] == 2
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_every_bridge_service_runs_a_real_subcommand_with_valid_options(compose: dict[str, Any]) -> None:
    roles = {}
    for service_name, service in _bridge_services(compose).items():
        role, args = parse_role(service["command"])
        roles[service_name] = role
        if role != "simulate":
            assert args.config == IMAGE_CONFIG
            mounts = [volume.split(":") for volume in service["volumes"]]
            assert any(target == IMAGE_CONFIG and (REPO / source).is_file() for source, target, *_ in mounts)
    assert roles == {
        "simulator": "simulate",
        "subscriber": "subscriber",
        "worker": "worker",
        "receiver": "receiver",
        "console": "console",
    }


def test_the_mounted_configuration_loads_with_the_compose_environment(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose["services"]["worker"]
    for key, value in service["environment"].items():
        monkeypatch.setenv(key, re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value)))
    source = next(v.split(":")[0] for v in service["volumes"] if IMAGE_CONFIG in v)
    settings = load_settings(REPO / source)
    assert delivery_config_problems(settings) == []
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.gws.base_url == "http://simulator:8090"
    assert len(settings.agents) == 5 and settings.inbound.clients
    _, console = parse_role(compose["services"]["console"]["command"])
    assert settings.console.keys and settings.console.port == console.port


def test_healthchecks_probe_what_each_role_serves(compose: dict[str, Any]) -> None:
    services = compose["services"]
    _, receiver = parse_role(services["receiver"]["command"])
    assert f"127.0.0.1:{receiver.port}/healthz" in " ".join(services["receiver"]["healthcheck"]["test"])
    _, console = parse_role(services["console"]["command"])
    assert f"127.0.0.1:{console.port}/readyz" in " ".join(services["console"]["healthcheck"]["test"])
    assert services["console"]["ports"] == [f"127.0.0.1:{console.port}:{console.port}"]  # loopback only
    for role in ("worker", "subscriber"):  # their metrics and event-loop heartbeat
        _, args = parse_role(services[role]["command"])
        assert args.metrics_host == "0.0.0.0"
        test = services[role]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "gws-bridge", "healthcheck"], role
        _, check = parse_role(test[2:])
        assert check.url == f"http://127.0.0.1:{args.metrics_port}/metrics" and check.max_age > 0, role
    _, simulator = parse_role(services["simulator"]["command"])
    assert f"127.0.0.1:{simulator.port}/api/v2/diagnostics/version" in " ".join(
        services["simulator"]["healthcheck"]["test"]
    )
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_every_container_is_read_only_without_capabilities_or_privilege_gain(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("read_only") is True, f"{name}: root filesystem is writable"
        assert service.get("cap_drop") == ["ALL"], f"{name}: keeps Linux capabilities"
        assert "cap_add" not in service, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert str(service.get("user", "10001")).split(":")[0] not in ("root", "0"), name


def test_the_writable_paths_are_named_and_nothing_else_is_writable(compose: dict[str, Any]) -> None:
    for name, service in _bridge_services(compose).items():
        assert [entry.split(":")[0] for entry in service["tmpfs"]] == ["/tmp"], name
        assert all(volume.endswith(":ro") for volume in service["volumes"]), f"{name} mounts a writable path"
    redis = compose["services"]["redis"]
    assert redis["volumes"] == ["redis-data:/data"] and "tmpfs" not in redis
    # the redis image's entrypoint needs root only to chown /data; as its own user it needs nothing
    assert redis["user"] == "999:1000"


def test_images_are_exact_releases(compose: dict[str, Any]) -> None:
    exact = re.compile(r"^[\w.\-/]+:\d+\.\d+\.\d+(-[\w.\-]+)?(@sha256:[0-9a-f]{64})?$")
    for name, service in compose["services"].items():
        if "build" not in service:
            assert exact.match(service["image"]), f"{name}: {service['image']} is not an exact release"
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, flags=re.MULTILINE)
    assert exact.match(base), f"{base} is not an exact release"
    assert re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    python = re.match(r"python:(\d+\.\d+\.\d+)", base)
    assert python is not None
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert SpecifierSet(project["requires-python"]).contains(python.group(1)), base


def test_dockerfile_is_multi_stage_non_root_installs_the_lock_and_runs_under_tini() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    [user] = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert user.split(":")[0] not in ("root", "0")
    assert "pip install --require-hashes -r requirements/run.lock" in text
    assert "pip install --no-deps --no-build-isolation ." in text
    assert "install --yes --no-install-recommends tini" in text
    assert 'ENTRYPOINT ["tini", "--", "gws-bridge"]' in text
    # the role is the command, so the image has no check of its own (compose sets one per role)
    assert re.findall(r"^HEALTHCHECK.*", text, flags=re.MULTILINE) == ["HEALTHCHECK NONE"]
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "tests"} <= set(ignored) and "requirements" not in ignored


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_config_validates_the_file() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
