"""The receiver's HTTP server: aiohttp's, with every error it answers itself in problem+json.

aiohttp answers a request it cannot parse (a bad request line, a header over its size limits,
a broken chunked body) before any route or middleware runs: in ``text/plain``, logged at ERROR
with a traceback. Those are a client's mistakes, so :class:`ReceiverRunner` serves the app with
a request handler whose error replies are RFC 9457 problems, logged as one WARNING line (the
error's class, never what was sent); :func:`problem_middleware` does the same for what a route
raises (aiohttp's ``HTTPException`` s, a body that breaks off mid-way; anything else is a 500
logged with its traceback, as a bug should be).

The request handler and server classes are aiohttp's own (``aiohttp.web_protocol``,
``aiohttp.web_server``), subclassed here and nowhere else, rebuilt from the server's private
``_loop`` and ``_kwargs``: tests/unit/inbound/test_aiohttp_adapter.py pins the aiohttp release
and every private name used here; tests/integration/inbound/test_protocol_errors.py sends the
malformed requests that pin the behaviour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, Problem, log_refusal

__all__ = ["ReceiverRunner", "access_log_middleware", "note_client", "problem_middleware", "problem_response"]

access_logger = logging.getLogger("bridge.inbound.access")
_CLIENT: ContextVar[str | None] = ContextVar("inbound_client", default=None)


def note_client(name: str) -> None:
    """Name the authenticated client of the request being answered (for its access-log line)."""
    _CLIENT.set(name)


@web.middleware
async def access_log_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """One INFO line per request on ``bridge.inbound.access``: method, path (no query), status,
    milliseconds and the authenticated client's name — never a key, a signature or a body."""
    started = time.perf_counter()
    token = _CLIENT.set(None)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        access_logger.info(
            "%s %s %d",
            request.method,
            request.path[:200],
            status,
            extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 2),
                   "client": _CLIENT.get()},
        )  # fmt: skip
        _CLIENT.reset(token)


logger = logging.getLogger(__name__)


def problem_response(problem: Problem, path: str | None = None) -> web.Response:
    """``problem`` as an aiohttp response (``application/problem+json``, its extra headers)."""
    return web.Response(
        status=problem.status,
        body=orjson.dumps(problem.body(path)),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problem_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Answer what a route raises in problem+json: aiohttp's HTTP errors, broken bodies, bugs (500)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        problem = Problem(exc.status, exc.reason, headers=_kept_headers(exc))
    except RequestPayloadError as exc:
        problem = Problem(400, f"the body could not be read ({type(exc).__name__})", kind="malformed-body")
    except Problem as exc:
        problem = exc
    except Exception:
        logger.exception("receiver failed", extra={"path": request.path[:200], "method": request.method})
        return problem_response(Problem(500, "internal error", kind="internal-error"), request.path)
    log_refusal(problem, request.method, request.path)
    return problem_response(problem, request.path)


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {name: exc.headers[name] for name in ("Allow", "Retry-After") if name in exc.headers}


class _ProblemRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering the requests it could not parse in problem+json."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            logger.error("receiver failed", exc_info=exc)
            problem = Problem(status, "internal error", kind="internal-error")
        else:
            # aiohttp's message may quote what was sent (a header, the request line): not echoed
            reason = type(exc).__name__ if exc is not None else "unreadable"
            problem = Problem(status, f"malformed HTTP request ({reason})", kind="malformed-request")
            logger.warning("malformed HTTP request refused", extra={"status": status, "error": reason})
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent on this connection")
        response = problem_response(problem)
        response.force_close()
        return response


class _ProblemServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ReceiverRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer unparseable requests in problem+json."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return _ProblemServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
