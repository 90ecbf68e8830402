"""The receiver's core: neutral requests in, neutral responses out (the web framework only adapts).

Every ``/v1/`` request goes through the same steps, in order, and a refusal
at any step makes no GWS call: body limit (413) → verification (401) → rate
limit (429 + ``Retry-After``) → parsing (400 / 415 / 422) → authorization
(403) → idempotency (replay, 409, 422) → the command. On ``POST /v1/commands`` the rate limit's
token is taken together with the idempotency claim (one Redis script) once the command parsed
and is authorized; a request refused on the way takes its token first, so the answers are the
same as in that order. The last two steps (the token, the at-most-once run) are
:class:`~bridge.inbound.admission.Admission`'s.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable

from bridge import tracing
from bridge.commands import Command
from bridge.config.gws import AgentConfig, GwsSettings
from bridge.config.inbound import InboundClient, InboundSettings, hash_api_key
from bridge.config.keys import DEFAULT_KEYS, InboundKeys
from bridge.errors import CommandError
from bridge.gws.notes import AgentNotes
from bridge.inbound.admission import Admission
from bridge.inbound.auth import Authenticator, Verified
from bridge.inbound.cti import CtiDialect
from bridge.inbound.executor import CommandExecutor
from bridge.inbound.http import (
    InboundRequest,
    InboundResponse,
    PipelineRoute,
    PlatformRoute,
    require_content_type,
    serve_platform_route,
)
from bridge.inbound.json_dialect import parse_json_command
from bridge.inbound.metrics import CONTENT_TYPE_LATEST, ReceiverMetrics
from bridge.inbound.openapi import OPENAPI_PATH, openapi_bytes
from bridge.inbound.problems import Problem, log_refusal, problem_for_command_error
from bridge.inbound.server import note_client
from bridge.inbound.sessions import CommandSessions
from bridge.inbound.store import CommandStore, MemoryCommandStore, RedisCommandStore
from bridge.redis_client import RedisSource

__all__ = ["InboundRequest", "InboundResponse", "Receiver", "client_may_act_for"]

logger = logging.getLogger(__name__)

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_COMMAND_PATH = re.compile(r"^/v1/commands/([A-Za-z0-9_-]{1,64})$")


def _route_pattern(route: str) -> re.Pattern[str]:
    """``/a/{name}`` → a pattern where each ``{…}`` segment matches one non-empty path segment."""
    segments = ("[^/]+" if s.startswith("{") and s.endswith("}") else re.escape(s) for s in route.split("/"))
    return re.compile("/".join(segments))


def client_may_act_for(client: InboundClient, agent: str, agent_groups: frozenset[str]) -> bool:
    """True when ``client`` is allowed to command ``agent`` (by name, ``"*"``, or a shared group)."""
    if "*" in client.agents or agent in client.agents:
        return True
    return bool(agent_groups.intersection(client.groups))


class Receiver:
    """The command receiver: authentication, dialects, idempotency, status, health and metrics."""

    def __init__(
        self,
        inbound: InboundSettings,
        gws: GwsSettings,
        agents: list[AgentConfig],
        *,
        redis: RedisSource | None = None,
        store: CommandStore | None = None,
        keys: InboundKeys = DEFAULT_KEYS.inbound,
        command_index: int = 2000,
        notes: AgentNotes | None = None,
    ) -> None:
        self.settings = inbound
        self.metrics = ReceiverMetrics()
        if store is None:
            store = (
                RedisCommandStore(redis, keys=keys, index_size=command_index)
                if inbound.store == "redis" and redis is not None
                else MemoryCommandStore()
            )
        self.store = store
        self._auth = Authenticator(inbound)
        self.admission = Admission(store, idempotency_ttl=inbound.idempotency_ttl)
        sessions = CommandSessions(
            gws, agents, cache_ttl=inbound.settings_cache_ttl, disposition_groups=inbound.disposition_groups
        )
        self.executor = CommandExecutor(sessions, store, inbound, self.metrics, notes=notes)
        self._cti = CtiDialect(self.executor, inbound)
        self._gws = gws
        self._mounted: dict[str, PipelineRoute | PlatformRoute] = {}
        self._templates: list[tuple[re.Pattern[str], str]] = []

    def mount(self, route: str, steps: PipelineRoute | PlatformRoute) -> None:
        """Serve ``route`` with the receiver's span, metrics and adapter; a ``{name}`` segment
        matches any one path segment, and the route, not the path, names it in the metrics.

        ``steps``: a :class:`PipelineRoute` goes through the receiver's verification and
        authorization (:meth:`_pipeline`); a :class:`PlatformRoute` (Slack) brings its own, on the
        same steps (:func:`~bridge.inbound.http.serve_platform_route`)."""
        self._mounted[route] = steps
        if "{" in route:
            self._templates.append((_route_pattern(route), route))

    async def aclose(self) -> None:
        """Stop listeners, close GWS sessions and the store."""
        await self.executor.aclose()
        await self.store.aclose()

    async def handle(self, request: InboundRequest) -> InboundResponse:
        """Answer one request; never raises. With tracing on: in a span continuing its ``traceparent``."""
        route = self._route_name(request.path)
        method = request.method.upper() if request.method.upper() in _METHODS else "HTTP"
        parent = request.headers.get("traceparent")
        with tracing.span(f"{method} {route}", kind=tracing.SpanKind.SERVER, traceparent=parent) as span:
            response = await self._answer(request, route)
            if span is not None:
                span.set_attributes({"http.request.method": method, "http.route": route,
                                     "http.response.status_code": response.status})  # fmt: skip
                if response.status >= 500:
                    tracing.mark_failed(span, f"HTTP {response.status}")
        return response

    async def _answer(self, request: InboundRequest, route: str) -> InboundResponse:
        started = time.perf_counter()
        try:
            response = await self._dispatch(request, route)
        except (Problem, CommandError) as exc:
            problem = exc if isinstance(exc, Problem) else problem_for_command_error(exc)
            log_refusal(problem, request.method, request.path)
            response = InboundResponse.problem(problem, request.path)
        except Exception:
            logger.exception("receiver failed", extra={"path": request.path, "method": request.method})
            response = InboundResponse.problem(
                Problem(500, "internal error", kind="internal-error"), request.path
            )
        self.metrics.requests.labels(route, str(response.status)).inc()
        self.metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    def _route_name(self, path: str) -> str:
        if _COMMAND_PATH.match(path):
            return "/v1/commands/{id}"
        if path in {"/healthz", "/readyz", "/metrics", OPENAPI_PATH, "/v1/commands", "/v1/cti"}:
            return path
        if path in self._mounted:
            return path
        for pattern, template in self._templates:
            if pattern.fullmatch(path):
                return template
        return "other"

    async def _dispatch(self, request: InboundRequest, route: str) -> InboundResponse:
        path, method = request.path, request.method.upper()
        if path == "/healthz":
            return self._only(method, "GET") or InboundResponse.json(200, {"status": "ok"})
        if path == "/readyz":
            return self._only(method, "GET") or await self._ready()
        if path == "/metrics":
            return self._only(method, "GET") or self._metrics(request)
        if path == OPENAPI_PATH:  # no credentials: the document describes the code, not this deployment
            return self._only(method, "GET") or InboundResponse(200, openapi_bytes())
        mounted = self._mounted.get(route)
        if isinstance(mounted, PipelineRoute):
            return await self._pipeline(mounted, request)
        if mounted is not None:
            return await serve_platform_route(mounted, request)
        handler: Callable[[InboundRequest, Verified], Awaitable[InboundResponse]]
        if path == "/v1/commands":
            allowed, handler = "POST", self._post_command
        elif path == "/v1/cti":
            allowed, handler = "POST", self._post_cti
        elif _COMMAND_PATH.match(path):
            allowed, handler = "GET", self._get_command
        else:
            raise Problem(404, f"no such resource: {path[:100]}", kind="not-found")
        refusal = self._only(method, allowed)
        if refusal is not None:
            return refusal
        # /v1/commands takes its token with the idempotency claim (one round trip, _post_command)
        verified = await self._verify(request, rate_limit=handler != self._post_command)
        return await handler(request, verified)

    async def _pipeline(self, route: PipelineRoute, request: InboundRequest) -> InboundResponse:
        """verify → parse → subject → authorize → execute → render (see :class:`PipelineRoute`)."""
        verified = await self._verify(request, max_body=route.max_body)
        agent, target = await route.subject(route.parse(request))
        self.authorize(verified.client, agent)
        return route.render(await route.execute(target))

    def _metrics(self, request: InboundRequest) -> InboundResponse:
        """The Prometheus exposition; with ``metrics_token_hashes`` only for a listed bearer token."""
        wanted = self.settings.metrics_token_hashes
        if wanted:
            scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
            given = hash_api_key(token.strip()) if scheme.lower() == "bearer" and token.strip() else ""
            if not any(hmac.compare_digest(given, expected) for expected in wanted):
                raise Problem(
                    401, "GET /metrics needs its bearer token", kind="unauthorized",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )  # fmt: skip
        return InboundResponse(200, self.metrics.render(), CONTENT_TYPE_LATEST)

    @staticmethod
    def _only(method: str, allowed: str) -> InboundResponse | None:
        if method == allowed:
            return None
        problem = Problem(405, f"use {allowed}", kind="method-not-allowed", headers={"Allow": allowed})
        return InboundResponse.problem(problem)

    async def _verify(
        self, request: InboundRequest, *, rate_limit: bool = True, max_body: int | None = None
    ) -> Verified:
        """The verification middleware: body limit (413; ``max_body``: a route's own, if lower),
        credentials (401), rate limit (429; ``rate_limit=False``: the caller takes the token
        itself, before anything reaches GWS)."""
        limit = min(self.settings.max_body_bytes, max_body or self.settings.max_body_bytes)
        if len(request.body) > limit:
            raise Problem(413, f"the body exceeds {limit} bytes", kind="body-too-large")

        async def seen(client: str, msg_id: str, stamp: str) -> bool:
            return await self.store.first_signature(
                client, msg_id, stamp, self.settings.signature_tolerance * 2
            )

        verified = await self._auth.authenticate(request.headers, request.body, seen)
        note_client(verified.client.name)
        if rate_limit:
            await self.admission.take_token(verified.client)
        return verified

    def authorize(self, client: InboundClient, agent: str) -> None:
        """Raise :class:`Problem` 403 when ``client`` may not command ``agent``; 422 if it is unknown."""
        sessions = self.executor.sessions
        if not client_may_act_for(client, agent, sessions.groups_of(agent)):
            raise Problem(403, f"client {client.name!r} may not act for agent {agent!r}", kind="forbidden")
        if not sessions.knows(agent):
            raise CommandError(
                f"agent {agent!r} is not configured",
                errors=[{"loc": ["agent"], "msg": "unknown agent", "type": "unknown_agent"}],
            )

    async def _post_command(self, request: InboundRequest, verified: Verified) -> InboundResponse:
        """The rate limit is taken here, not in :meth:`_verify`: with the idempotency claim in one
        round trip; a request refused while parsing or authorizing takes its token first, so the
        answers are those of the documented order (429 before 400/415/422/403)."""
        try:
            require_content_type(request.headers.get("Content-Type"))
            key = request.headers.get("Idempotency-Key")
            if key is not None and not _IDEMPOTENCY_KEY.match(key):
                raise Problem(
                    400, "Idempotency-Key must be 1-255 visible ASCII characters", kind="bad-idempotency-key"
                )
            command = parse_json_command(request.body, key)
            self.authorize(verified.client, command.agent)
        except (Problem, CommandError):
            await self.admission.take_token(verified.client)
            raise
        if key is None:
            await self.admission.take_token(verified.client)
            return await self.admission.run_once(verified.client, command, self._perform_json)
        return await self.admission.run_once(verified.client, command, self._perform_json, rate_limit=True)

    async def _perform_json(self, client: InboundClient, command: Command) -> InboundResponse:
        execution = await self.executor.execute(command, client.name, defer_save=True)
        body = {key: value for key, value in execution.record.items() if key != "client"}
        body["links"] = {"status": f"/v1/commands/{command.id}"}
        status = 202 if execution.record["status"] == "accepted" else 200
        response = InboundResponse.json(status, body, {"Location": f"/v1/commands/{command.id}"})
        response.durable = execution.saved
        return response

    async def _get_command(self, request: InboundRequest, verified: Verified) -> InboundResponse:
        match = _COMMAND_PATH.match(request.path)
        assert match is not None
        record = await self.store.load_status(match.group(1))
        if record is None or record.get("client") != verified.client.name:
            raise Problem(404, "no such command for this client", kind="not-found")
        return InboundResponse.json(200, {key: value for key, value in record.items() if key != "client"})

    async def _post_cti(self, request: InboundRequest, verified: Verified) -> InboundResponse:
        require_content_type(request.headers.get("Content-Type"))
        parsed = self._cti.parse(request.body, verified.client, request.headers.get("Idempotency-Key"))
        if isinstance(parsed, InboundResponse):  # refused in the seed's own shape
            return parsed
        self.authorize(verified.client, parsed.command.agent)
        return await self.admission.run_once(
            verified.client, parsed.command, lambda client, _: self._cti.perform(parsed, client)
        )

    async def _ready(self) -> InboundResponse:
        checks = {"store": await self.store.ping()}
        ok = all(checks.values())
        return InboundResponse.json(
            200 if ok else 503, {"status": "ready" if ok else "not ready", "checks": checks}
        )
