"""Framework-neutral HTTP request and response (the aiohttp adapter only translates to these)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from bridge.errors import CommandError
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, problem_for_command_error

__all__ = [
    "FORM",
    "JSON",
    "InboundRequest",
    "InboundResponse",
    "PipelineRoute",
    "PlatformRoute",
    "require_content_type",
    "serve_platform_route",
]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_UTF8 = {"utf-8", "utf8"}


def require_content_type(content_type: str | None, media: str | None = JSON) -> None:
    """Raise :class:`Problem` 415 unless ``content_type`` is ``media`` in UTF-8.

    ``media`` ``JSON`` also admits any ``+json`` type; ``None`` admits any type (the device
    registry has never asked for one). A ``charset`` other than UTF-8 is refused whatever the
    type: JSON is UTF-8 (RFC 8259), as are Slack's forms, and a body announced as, say, UTF-16
    would otherwise be read as UTF-8.
    """
    kind, *parameters = (content_type or "").split(";")
    kind = kind.strip().lower()
    if media is not None and kind != media and not (media == JSON and kind.endswith("+json")):
        raise Problem(415, f"send {media}", kind="unsupported-media-type")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise Problem(415, "bodies are UTF-8: send charset=utf-8 or none", kind="unsupported-media-type")


@dataclass(frozen=True)
class InboundRequest:
    """An HTTP request, framework-neutral; ``headers`` must look up names case-insensitively.

    ``path`` is decoded and without the query; ``query`` holds the query's parameters (the first
    value of each name)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass
class InboundResponse:
    """An HTTP response, framework-neutral.

    ``durable``: a store write that must have succeeded before this response is sent (awaited by
    whoever sends it: the receiver's idempotency step awaits it together with the stored reply, so
    both go to Redis in one round trip). Never sent.
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    durable: Awaitable[None] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def json(cls, status: int, document: Any, headers: dict[str, str] | None = None) -> InboundResponse:
        return cls(status, orjson.dumps(document), "application/json", headers or {})

    @classmethod
    def problem(cls, problem: Problem, instance: str | None = None) -> InboundResponse:
        """``problem`` as problem+json (``instance``: the request's path), with its headers."""
        return cls(
            problem.status, orjson.dumps(problem.body(instance)), PROBLEM_CONTENT_TYPE, problem.headers
        )


@runtime_checkable
class PipelineRoute(Protocol):
    """A route served on the receiver's own steps (``Receiver.mount``), in this order, a refusal at
    any of them (a :class:`Problem`, or a ``CommandError``) answered as the receiver's own:

    verify (the receiver: body limit ``max_body`` or the receiver's, if lower, 413; credentials
    401; rate limit 429) → :meth:`parse` → :meth:`subject` → authorize (the receiver: may the
    verified client act for that agent? 403; an unknown agent 422) → :meth:`execute` → :meth:`render`.
    Nothing is executed for a refused request.
    """

    max_body: int

    def parse(self, request: InboundRequest) -> Any:
        """What ``request`` asks for; pure (no IO): 400 / 404 / 405 / 415 / 422 naming the field."""

    async def subject(self, parsed: Any) -> tuple[str, Any]:
        """``(agent, target)``: the agent the request acts for (whom authorization checks) and what
        :meth:`execute` acts on; it may read (e.g. whose the addressed resource is: 404)."""

    async def execute(self, target: Any) -> Any:
        """Do it (only once authorized); the result goes to :meth:`render`."""

    def render(self, result: Any) -> InboundResponse:
        """The answer to send."""


@runtime_checkable
class PlatformRoute(Protocol):
    """A route for a platform that signs its requests with a secret of its own and acts for its own
    users (Slack), not for the receiver's clients: the same steps as a :class:`PipelineRoute`, in
    the same order, but verify and authorize are the route's (``Receiver.mount``;
    :func:`serve_platform_route` runs them). Nothing is executed for a refused request.
    """

    async def verify(self, request: InboundRequest) -> Any:
        """Who sent ``request`` (its signature; 401, 405, 413); no more than the raw bytes."""

    def parse(self, request: InboundRequest) -> Any:
        """What the verified request asks for; pure (no IO): 400 / 415 / 422 naming the field."""

    async def authorize(self, verified: Any, parsed: Any) -> Any:
        """What :meth:`execute` may do for it (it may read: who the user is, whose call it is);
        a refusal the platform shows its user is a target too, executed as an answer."""

    async def execute(self, target: Any) -> Any:
        """Do it (only once authorized); the result goes to :meth:`render`."""

    def render(self, result: Any) -> InboundResponse:
        """The answer to send."""

    def refused(self, request: InboundRequest, problem: Problem) -> InboundResponse:
        """The answer to a request refused at a step (``problem``), logged as the route logs it."""

    def failed(self, request: InboundRequest) -> InboundResponse:
        """The answer when a step failed unexpectedly (called while handling the exception)."""


async def serve_platform_route(route: PlatformRoute, request: InboundRequest) -> InboundResponse:
    """verify → parse → authorize → execute → render; never raises (see :class:`PlatformRoute`)."""
    try:
        verified = await route.verify(request)
        target = await route.authorize(verified, route.parse(request))
        return route.render(await route.execute(target))
    except (Problem, CommandError) as exc:
        return route.refused(request, exc if isinstance(exc, Problem) else problem_for_command_error(exc))
    except Exception:
        return route.failed(request)
