"""Who may do what from Slack: the Slack user → agent mapping, and an agent's own calls and chats.

A Slack user acts only as the agent ``[inbound.slack] users`` maps it to, and only if that agent is
configured; a button, a menu or ``/dispo`` naming a call must be about that agent's own call (as
far as the Slack connector's posts tell, :class:`connectors.slack_state.ThreadBook`), a reply in a
chat's thread about a chat the agent holds. Refusals are texts for the user (ephemeral); nothing
here calls GWS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.keys import SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.inbound.slack_commands import SlackIntent

__all__ = ["SlackAccess"]

logger = logging.getLogger(__name__)

NOT_LINKED = ":no_entry: Your Slack user is not linked to a GWS agent. Ask an admin to map it."


class SlackAccess:
    """The authorization step of the Slack routes (reads Redis for a call's agents, never GWS)."""

    def __init__(
        self,
        settings: SlackInboundSettings,
        knows_agent: Callable[[str], bool],
        redis: Redis | None,
        keys: SlackKeys,
    ) -> None:
        self._users = settings.users
        self._knows = knows_agent
        self._redis = redis
        self._keys = keys

    def linked(self, user_id: str) -> bool:
        """True when ``user_id`` is mapped to an agent (whether or not it is configured)."""
        return user_id in self._users

    def agent_of(self, user_id: str) -> tuple[str, str | None]:
        """``(agent, None)`` for a user linked to a configured agent, else ``("", refusal text)``."""
        agent = self._users.get(user_id)
        if agent is None:
            return "", NOT_LINKED
        if not self._knows(agent):
            return "", f":no_entry: Agent {agent} is not configured in the bridge."
        return agent, None

    async def authorize(self, user_id: str, intent: SlackIntent) -> tuple[str, str | None]:
        """``(agent, None)`` when ``user_id`` may do ``intent``, else ``("", refusal text)``."""
        agent, refusal = self.agent_of(user_id)
        if refusal is not None:
            return "", refusal
        if intent.for_agent is not None and intent.for_agent != agent:
            return "", f":no_entry: That belongs to {intent.for_agent}; you can only act for {agent}."
        if intent.call_id is not None:  # a disposition, hold, retrieve or transfer: only on one's own call
            owners = await self.call_owners(intent.call_id)
            if owners and agent not in owners:
                return "", f":no_entry: Call {intent.call_id} is not yours; you can only act for {agent}."
        return agent, None

    async def call_owners(self, call_id: str) -> set[str]:
        """The agents the Slack connector posted this call for (empty when unknown or no Redis)."""
        if self._redis is None:
            return set()
        try:
            members = await self._redis.smembers(self._keys.call_agents(call_id))
        except RedisError:
            logger.warning("call owners unavailable", extra={"call_id": call_id})
            return set()
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}
