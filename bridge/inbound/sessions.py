"""Agent REST sessions for commands, and the GWS facts commands are checked against.

One :class:`GwsRestClient` per agent, created on first use and cached; the
client logs in on demand and logs in again when GWS forgets the session
(HTTP 401/403 or statusCode 20). All clients share one TCP connector.
Credentials come from ``Settings.agents``, as for the subscriber.

Facts (the voice device id, ``settings/agent-states``, dispositions) are
cached for ``settings_cache_ttl`` seconds so that a burst of commands costs one
GET, and they are fetched only for the commands that need them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from bridge.commands import AgentContext, AgentStateDefinition, Need
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.gws import operations
from bridge.gws.rest import GwsRestClient

__all__ = ["CommandSessions"]


def _disposition_names(group: Any, into: set[str]) -> None:
    if not isinstance(group, dict):
        return
    for item in group.get("dispositions") or ():
        if isinstance(item, dict) and item.get("name"):
            into.add(str(item["name"]))
    for child in group.get("groups") or ():
        _disposition_names(child, into)


class CommandSessions:
    """The REST sessions commands run with, one per configured agent."""

    def __init__(
        self,
        gws: GwsSettings,
        agents: Sequence[AgentConfig],
        *,
        cache_ttl: float = 60.0,
        disposition_groups: Sequence[str] = (),
    ) -> None:
        self._gws = gws
        self._agents = {agent.username: agent for agent in agents}
        self._cache_ttl = cache_ttl
        self._disposition_groups = tuple(disposition_groups)
        self._clients: dict[str, GwsRestClient] = {}
        self._connector: aiohttp.TCPConnector | None = None
        self._facts: dict[tuple[str, Need], tuple[float, Any]] = {}
        self._fact_locks: dict[tuple[str, Need], asyncio.Lock] = {}

    def knows(self, agent: str) -> bool:
        """True when ``agent`` has credentials in the configuration."""
        return agent in self._agents

    def groups_of(self, agent: str) -> frozenset[str]:
        """The configured groups of ``agent`` (empty for an unknown agent)."""
        config = self._agents.get(agent)
        return frozenset(config.groups) if config else frozenset()

    def client(self, agent: str) -> GwsRestClient:
        """The agent's REST client (created, not yet logged in, on first use). KeyError if unknown."""
        client = self._clients.get(agent)
        if client is None:
            config = self._agents[agent]
            if self._connector is None:
                self._connector = aiohttp.TCPConnector(limit=256)
            client = GwsRestClient.from_settings(
                self._gws, config.username, config.password.get_secret_value(), connector=self._connector
            )
            self._clients[agent] = client
        return client

    async def context(self, agent: str, needs: frozenset[Need]) -> AgentContext:
        """An :class:`AgentContext` with what ``needs`` lists; raises ``GwsError`` if GWS refuses."""
        client = self.client(agent)
        device_id = await self._fact(agent, Need.DEVICE) if Need.DEVICE in needs else None
        states = await self._fact(agent, Need.AGENT_STATES) if Need.AGENT_STATES in needs else None
        dispositions = await self._fact(agent, Need.DISPOSITIONS) if Need.DISPOSITIONS in needs else None
        return AgentContext(
            base_url=client.base_url, device_id=device_id, agent_states=states, dispositions=dispositions
        )

    def forget(self, agent: str, need: Need) -> None:
        """Drop a cached fact (e.g. the device after a session ended)."""
        self._facts.pop((agent, need), None)

    async def _fact(self, agent: str, need: Need) -> Any:
        key = (agent, need)
        cached = self._facts.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._fact_locks.setdefault(key, asyncio.Lock()):
            cached = self._facts.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            value = await self._fetch(self.client(agent), need)
            self._facts[key] = (time.monotonic() + self._cache_ttl, value)
            return value

    async def _fetch(self, client: GwsRestClient, need: Need) -> Any:
        if need is Need.DEVICE:
            devices = await operations.get_devices(client)
            return str(devices[0]["id"]) if devices and devices[0].get("id") else None
        if need is Need.AGENT_STATES:
            items = await operations.get_agent_states(client)
            return tuple(AgentStateDefinition.from_gws(item) for item in items if item.get("operationName"))
        names = {str(item["name"]) for item in await operations.get_dispositions(client) if item.get("name")}
        for group_id in self._disposition_groups:
            _disposition_names(await operations.get_disposition_groups(client, group_id), names)
        # Nothing defined in GWS: nothing to validate against.
        return frozenset(names) if names else None

    async def aclose(self) -> None:
        """Close every client and the shared connector."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        if self._connector is not None:
            await self._connector.close()
            self._connector = None
