"""``[redis_sentinel]``: reach Redis through Sentinel instead of the plain ``redis_url``.

When the section is present, every Redis client (``bridge.redis_client``) asks the sentinels for
the current master of ``master_name`` and follows a failover; ``redis_url`` is then ignored.
Passwords are secret references (``env:NAME`` / ``file:PATH``), resolved when a client is built.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

__all__ = ["RedisSentinelSettings"]


class RedisSentinelSettings(BaseModel):
    """Sentinel addresses and the master they manage (no Redis Cluster: one master, replicas)."""

    # hide_input_in_errors: a validation error must never echo a pasted password.
    model_config = {"extra": "forbid", "frozen": True, "hide_input_in_errors": True}

    sentinels: list[str] = Field(min_length=1, description="sentinel addresses, host:port")
    master_name: str = Field(min_length=1, description="the master's name in the sentinels' config")
    db: int = Field(default=0, ge=0, description="database number on the master")
    password: str | None = Field(default=None, description="master/replica password reference (env:/file:)")
    sentinel_password: str | None = Field(
        default=None, description="the sentinels' own password reference (env:/file:)"
    )
    tls: bool = Field(default=False, description="TLS to master and sentinels (rediss)")
    tls_ca_file: str | None = Field(
        default=None, description="with tls: PEM bundle to verify the certificates with (private CA)"
    )
    # A failover promotes a replica that may lack the master's last writes (replication is
    # asynchronous). With wait_replicas >= 1 the subscriber's state save ends in WAIT: a CometD
    # message counts as handled only once a replica holds its state, and so its events (written
    # before it). docs/operations.md "Redis Sentinel" has the figures behind the defaults.
    wait_replicas: int = Field(
        default=1, ge=0, le=16, description="replicas that must confirm a state save (WAIT); 0: none"
    )
    wait_timeout_ms: int = Field(
        default=500, ge=1, le=60_000, description="how long a save waits for them before going on, warned"
    )

    @field_validator("sentinels")
    @classmethod
    def _host_port(cls, value: list[str]) -> list[str]:
        for address in value:
            host, sep, port = address.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"sentinel address {address!r} is not host:port")
        return value

    @field_validator("password", "sentinel_password")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("env:", "file:")):
            raise ValueError("must be a reference: env:NAME or file:PATH (inline values are refused)")
        return value

    def addresses(self) -> list[tuple[str, int]]:
        """The sentinels as ``(host, port)``; ``[::1]:26379`` loses its brackets."""
        out = []
        for address in self.sentinels:
            host, _, port = address.rpartition(":")
            out.append((host.strip("[]"), int(port)))
        return out
