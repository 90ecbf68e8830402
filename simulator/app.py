"""The simulator: configuration, the object that ties state, engines, auth and CometD together,
and ``create_app(config)``.

``Simulator.publish`` is the one place notifications leave: it hands them to the Bayeux
server and, when ``record_notifications`` is on (tests), keeps a copy for assertions.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.agent import AgentEngine
from simulator.auth import AuthConfig, SessionStore, auth_middleware
from simulator.bayeux import BayeuxServer
from simulator.defaults import SERVICES, VOICE_FILTERS, generate_users, load_users
from simulator.messages import TOPIC_SERVICES, MessageBuilder
from simulator.model import SimState
from simulator.voice import VoiceEngine

if TYPE_CHECKING:
    from simulator.load import LoadRunner

__all__ = ["SIMULATOR_KEY", "Simulator", "SimulatorConfig", "create_app"]

logger = logging.getLogger("simulator")

_REDACTED_KEYS = {"oldPassword", "newPassword", "password"}


@dataclass(slots=True)
class SimulatorConfig:
    """Everything a simulator instance is built from (read once, passed down).

    ``base_url`` is what URIs in replies and notifications start with; when None it is
    ``http://{host}:{port}``. ``remote_answer_delay`` is when an external party answers a Dial
    (None: never); ``interaction_invite_timeout`` revokes unanswered invitations (None: never).
    """

    host: str = "127.0.0.1"
    port: int = 8090
    agents: int = 5
    users_file: Path | None = None
    csrf: bool = True
    session_idle_timeout: float = 1800.0
    released_retention: float = 60.0
    remote_answer_delay: float | None = 0.2
    interaction_invite_timeout: float | None = None
    long_poll_timeout: float = 30.0
    cometd_session_timeout: float = 60.0
    cometd_max_queue: int = 1000
    record_notifications: bool = False
    log_size: int = 10_000
    base_url: str | None = None
    voice_filters: dict[str, list[dict[str, str]]] = field(default_factory=lambda: dict(VOICE_FILTERS))

    def url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"


class Simulator:
    """One simulated GWS node: users and live objects, the engines that change them, sessions, CometD."""

    def __init__(self, config: SimulatorConfig) -> None:
        from simulator.media import MediaEngine  # local: media imports call_ops which imports voice

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
            self.sessions.authenticate_cometd,
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
            self.state, self.builder, self.publish, invite_timeout=config.interaction_invite_timeout
        )
        self.published: list[dict[str, Any]] = []
        self.published_count = 0
        self.request_log: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self.started = time.time()
        self.loads: dict[str, LoadRunner] = {}

    # -- notifications ----------------------------------------------------------------------------

    def publish(self, channel: str, data: dict[str, Any], user: str | None) -> int:
        """Send one notification; returns how many CometD clients got it."""
        self.published_count += 1
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
        from simulator.load import LoadRunner

        await LoadRunner.stop_all(self)
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


def create_app(config: SimulatorConfig, simulator: Simulator | None = None) -> web.Application:
    """The aiohttp application serving GWS REST under ``/api/v2``, CometD and the ``/sim`` control API."""
    from simulator.control import add_control_routes
    from simulator.rest import add_rest_routes, request_log_middleware

    sim = simulator if simulator is not None else Simulator(config)
    app = web.Application(
        middlewares=[auth_middleware(sim.sessions), request_log_middleware(sim)],
        client_max_size=4 * 1024 * 1024,
    )
    app[SIMULATOR_KEY] = sim
    sim.bayeux.add_routes(app)
    add_rest_routes(app)
    add_control_routes(app)

    async def _close(_app: web.Application) -> None:
        await sim.close()

    app.on_shutdown.append(_close)
    return app
