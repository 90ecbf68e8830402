"""Every Redis client comes from ``bridge.redis_client``; ``[redis_sentinel]`` is validated.

A module that builds its own client (``Redis(...)``, ``Redis.from_url``, ``Sentinel(...)``, a
``ConnectionPool``) would ignore the Sentinel configuration and keep talking to a dead master.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest
from pydantic import ValidationError
from redis.asyncio.sentinel import SentinelConnectionPool

from bridge.config import Settings
from bridge.config.settings import format_validation_error
from bridge.errors import ConfigError
from bridge.processes import subscriber
from bridge.redis_client import async_redis, sync_redis

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ROOT / "bridge" / "redis_client.py"
CONSTRUCTORS = {"Redis", "StrictRedis", "Sentinel", "ConnectionPool", "BlockingConnectionPool", "from_url"}


def client_constructions(text: str) -> list[int]:
    """Lines of ``text`` that call a redis-py client constructor or ``…from_url``."""
    lines = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in CONSTRUCTORS:
                lines.append(node.lineno)
    return lines


def test_the_detector_sees_each_way_of_building_a_client() -> None:
    source = (
        "a = Redis.from_url(u)\nb = aioredis.Redis(host='x')\n"
        "c = Sentinel([('h', 1)])\nd = redis.ConnectionPool()\n"
    )
    assert client_constructions(source) == [1, 2, 3, 4]
    assert client_constructions("x = async_redis(settings)\nredis.ping()\n") == []


def test_no_module_outside_the_factory_builds_a_redis_client() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for top in ("bridge", "connectors")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path != FACTORY
        for line in client_constructions(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "build Redis clients with bridge.redis_client.async_redis/sync_redis"


def test_sentinel_settings_make_a_sentinel_managed_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GWSB_TEST_REDIS_PW", "s3cret")
    settings = Settings(
        redis_sentinel={
            "sentinels": ["127.0.0.1:26379", "[::1]:26380"],
            "master_name": "bridge",
            "password": "env:GWSB_TEST_REDIS_PW",
        }
    )
    assert settings.redis_sentinel is not None
    assert settings.redis_sentinel.addresses() == [("127.0.0.1", 26379), ("::1", 26380)]
    client = async_redis(settings)
    assert isinstance(client.connection_pool, SentinelConnectionPool)
    assert client.connection_pool.service_name == "bridge"
    assert client.connection_pool.connection_kwargs["password"] == "s3cret"
    blocking = sync_redis(settings)
    assert blocking.connection_pool.service_name == "bridge"  # type: ignore[attr-defined]


def test_a_plain_url_still_makes_a_plain_client() -> None:
    client = async_redis(Settings(redis_url="redis://127.0.0.1:6399/3"))
    assert not isinstance(client.connection_pool, SentinelConnectionPool)
    assert client.connection_pool.connection_kwargs["db"] == 3


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"sentinels": ["127.0.0.1"], "master_name": "m"}, "sentinels"),
        ({"sentinels": [], "master_name": "m"}, "sentinels"),
        ({"sentinels": ["h:1"], "master_name": ""}, "master_name"),
        ({"sentinels": ["h:1"], "master_name": "m", "password": "hunter2"}, "password"),
    ],
)
def test_bad_sentinel_settings_name_the_field_and_never_echo_a_password(section: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(redis_sentinel=section)
    message = format_validation_error(caught.value, "bridge.toml")  # what load_settings reports
    assert f"bridge.toml: redis_sentinel.{field}" in message
    assert "hunter2" not in message


def test_redis_url_flag_with_a_sentinel_section_is_an_error_not_ignored(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[redis_sentinel]\nsentinels = ["127.0.0.1:26379"]\nmaster_name = "bridge"\n')
    parser = argparse.ArgumentParser()
    subscriber.add_arguments(parser)
    with pytest.raises(ConfigError, match=r"--redis-url cannot be used with \[redis_sentinel\]"):
        subscriber.build_settings(
            parser.parse_args(["--config", str(config), "--redis-url", "redis://127.0.0.1:6399/0"])
        )
    # without the flag the section is used, and the subscriber's saves wait for one replica
    settings = subscriber.build_settings(parser.parse_args(["--config", str(config)]))
    assert settings.redis_sentinel is not None
    assert (settings.redis_sentinel.wait_replicas, settings.redis_sentinel.wait_timeout_ms) == (1, 500)


def test_wait_replicas_zero_turns_the_replica_wait_off_and_negative_is_refused() -> None:
    section = {"sentinels": ["h:1"], "master_name": "m"}
    conf = Settings(redis_sentinel={**section, "wait_replicas": 0}).redis_sentinel
    assert conf is not None and conf.wait_replicas == 0
    for field, value in (("wait_replicas", -1), ("wait_timeout_ms", 0)):
        with pytest.raises(ValidationError) as caught:
            Settings(redis_sentinel={**section, field: value})
        assert f"bridge.toml: redis_sentinel.{field}" in format_validation_error(caught.value, "bridge.toml")
