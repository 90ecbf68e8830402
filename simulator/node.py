"""One simulated GWS node: the object that ties state, engines, HTTP sessions and CometD together.

``Simulator.publish`` is the one place notifications leave: it hands them to the Bayeux
server and, when ``record_notifications`` is on (tests), keeps a copy for assertions.
Handlers find the node of their application with :func:`sim_of`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulator.agent import AgentEngine
from simulator.auth import AuthConfig, SessionStore, cometd_user
from simulator.bayeux import BayeuxServer
from simulator.config import SimulatorConfig
from simulator.defaults import SERVICES, generate_users, load_users
from simulator.load import LoadRegistry
from simulator.media import MediaEngine
from simulator.messages import TOPIC_SERVICES, MessageBuilder
from simulator.model import SimState
from simulator.stats import StatsEngine
from simulator.stats_config import load_stats_config
from simulator.voice import VoiceEngine

__all__ = ["SIMULATOR_KEY", "Simulator", "sim_of"]

logger = logging.getLogger("simulator")

_REDACTED_KEYS = {"oldPassword", "newPassword", "password"}


class Simulator:
    """One simulated GWS node: users and live objects, the engines that change them, sessions, CometD."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimState()
        users = (
            load_users(config.users_file) if config.users_file is not None else generate_users(config.agents)
        )
        for user in users:
            self.state.add_user(user)
        for service_type in SERVICES:
            self.state.service_states[service_type] = "Active"
        self.builder = MessageBuilder(config.url(), config.voice_filters)
        self.sessions = SessionStore(
            self.state, AuthConfig(csrf=config.csrf, session_idle_timeout=config.session_idle_timeout)
        )
        self.bayeux = BayeuxServer(
            cometd_user,
            long_poll_timeout=config.long_poll_timeout,
            session_timeout=config.cometd_session_timeout,
            max_queue=config.cometd_max_queue,
        )
        self.voice = VoiceEngine(
            self.state,
            self.builder,
            self.publish,
            released_retention=config.released_retention,
            remote_answer_delay=config.remote_answer_delay,
        )
        self.agents = AgentEngine(self.state, self.builder, self.publish)
        self.media = MediaEngine(
            self.state,
            self.builder,
            self.publish,
            invite_timeout=config.interaction_invite_timeout,
            workbin_subscribed=lambda user, workbin: self.sessions.subscribed_to_workbin(
                user.user_name, workbin.workbin_id
            ),
        )
        self.published: list[dict[str, Any]] = []
        self.published_count = 0
        #: called with ``(channel, data, user)`` for every notification, before it is sent
        self.observers: list[Callable[[str, dict[str, Any], str | None], None]] = []
        self.stats = StatsEngine(self.state, *load_stats_config(config.users_file))
        self.observers.append(self.stats.observe)
        self.request_log: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self.started = time.time()
        self.loads = LoadRegistry(self.state, self.voice, lambda: self.published_count)

    # -- notifications ----------------------------------------------------------------------------

    def publish(self, channel: str, data: dict[str, Any], user: str | None) -> int:
        """Send one notification; returns how many CometD clients got it."""
        self.published_count += 1
        for observer in self.observers:
            observer(channel, data, user)
        if self.config.record_notifications:
            self.published.append({"channel": channel, "data": data, "user": user})
        return self.bayeux.publish(channel, data, user=user)

    def notifications(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Recorded notifications (``record_notifications``), optionally for one user and/or channel."""
        return [
            {"channel": item["channel"], "data": item["data"]}
            for item in self.published
            if (user is None or item["user"] in (user, None))
            and (channel is None or item["channel"] == channel)
        ]

    def set_service_state(self, service_type: str, state: str) -> dict[str, Any]:
        """Change a service's state and broadcast ``ServiceStateChangeMessage``; KeyError if unknown."""
        canonical = next((known for known in SERVICES if known.lower() == service_type.lower()), None)
        if canonical is None:
            raise KeyError(service_type)
        self.state.service_states[canonical] = state
        service_id, name = SERVICES[canonical]
        message = self.builder.service_message(service_id, name, canonical, state)
        self.publish(TOPIC_SERVICES, message, None)
        if canonical == "Voice":
            self.agents.set_voice_available(self.service_available("Voice"))
        return message["service"]

    def service_available(self, service_type: str) -> bool:
        return self.state.service_states.get(service_type) not in ("Inactive", "Unknown")

    # -- request log ------------------------------------------------------------------------------

    def log_request(self, agent: str | None, method: str, path: str, query: str, body: Any) -> None:
        if isinstance(body, dict) and _REDACTED_KEYS.intersection(body):
            body = {key: ("***" if key in _REDACTED_KEYS else value) for key, value in body.items()}
        self.request_log.append(
            {
                "agent": agent,
                "method": method,
                "path": path,
                "query": query,
                "body": body,
                "time": time.time(),
            }
        )

    # -- lifecycle --------------------------------------------------------------------------------

    async def restart(self) -> dict[str, int]:
        """Forget every HTTP session and drop every CometD client, like a GWS node restart."""
        sessions = self.sessions.clear()
        clients = await self.bayeux.disconnect_all()
        logger.info("simulator restarted", extra={"sessions": sessions, "clients": clients})
        return {"sessions": sessions, "cometdClients": clients}

    async def close(self) -> None:
        self.voice.cancel_timers()
        self.media.cancel_timers()
        await self.loads.stop_all()
        await self.bayeux.close()

    def status(self) -> dict[str, Any]:
        calls = self.state.calls.values()
        return {
            "agents": len(self.state.users),
            "sessions": self.sessions.live_count(),
            "cometdClients": self.bayeux.client_count,
            "calls": sum(1 for call in calls if call.state.value != "Released"),
            "releasedCalls": sum(1 for call in calls if call.state.value == "Released"),
            "interactions": len(self.state.interactions),
            "notificationsPublished": self.published_count,
            "services": dict(self.state.service_states),
            "uptime": round(time.time() - self.started, 3),
        }


SIMULATOR_KEY = web.AppKey("simulator", Simulator)


def sim_of(request: web.Request) -> Simulator:
    """The simulator serving ``request``."""
    return request.app[SIMULATOR_KEY]
