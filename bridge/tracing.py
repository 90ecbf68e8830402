"""Tracing: OpenTelemetry spans along the pipeline, linked by the W3C ``traceparent``.

Off unless a process installs a tracer (:func:`install`; ``bridge/processes/tracing.py`` does it
from ``[tracing]``). Until then every function here returns at once: no span object is made and
opentelemetry is not even imported, so the instrumented code pays one check per call.

The stages call only this module: :func:`span` (a context manager giving the span, or None),
:func:`traced` (the same around a coroutine function), :func:`set_attribute` on the current
span, :func:`traceparent` (the current span as a W3C ``traceparent``), :func:`inject` (into
outgoing HTTP headers) and :func:`stamp` (into events: the CloudEvents distributed-tracing
extension attribute). A ``traceparent`` that is missing or malformed starts a new trace.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager
from enum import Enum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from bridge.events import TRACEPARENT_PATTERN, Event

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = [
    "SpanKind",
    "active",
    "inject",
    "install",
    "mark_failed",
    "set_attribute",
    "span",
    "stamp",
    "traced",
    "traceparent",
    "uninstall",
]

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)

P = ParamSpec("P")
R = TypeVar("R")
Attributes = Mapping[str, str | bool | int | float]


class SpanKind(str, Enum):
    """OpenTelemetry's span kinds, named without importing opentelemetry."""

    INTERNAL = "INTERNAL"
    SERVER = "SERVER"
    CLIENT = "CLIENT"
    PRODUCER = "PRODUCER"
    CONSUMER = "CONSUMER"


class _NoSpan:
    """What :func:`span` returns while tracing is off: enters to None, allocates nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_SPAN = _NoSpan()
_tracer: Tracer | None = None
_propagator: Any = None  # the W3C trace-context propagator, made by install()


def install(tracer: Tracer) -> None:
    """Trace from now on with ``tracer`` (an OpenTelemetry SDK tracer); one per process."""
    global _tracer, _propagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _propagator = TraceContextTextMapPropagator()
    _tracer = tracer


def uninstall() -> None:
    """Stop tracing (spans already started end as usual)."""
    global _tracer
    _tracer = None


def active() -> bool:
    """True while a tracer is installed."""
    return _tracer is not None


def _context(traceparent: str | None) -> Any:
    """The OpenTelemetry context whose parent is ``traceparent``; None (the current one) without it."""
    if traceparent is None:
        return None
    from opentelemetry.context import Context

    if not _TRACEPARENT.match(traceparent):
        return Context()  # malformed: a new trace, not a child of whatever is current
    return _propagator.extract({"traceparent": traceparent})


def _started(
    tracer: Tracer, name: str, kind: SpanKind, traceparent: str | None
) -> AbstractContextManager[Span]:
    from opentelemetry import trace

    return tracer.start_as_current_span(name, context=_context(traceparent), kind=trace.SpanKind[kind.value])


def span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, traceparent: str | None = None
) -> AbstractContextManager[Span | None]:
    """A span named ``name`` around a block, child of ``traceparent`` when given, else of the current span.

    ``with span(...) as s:`` gives the span, or None while tracing is off (set attributes under
    ``if s is not None`` so that nothing is computed for nothing). An exception leaving the
    block is recorded on the span and marks it failed.
    """
    tracer = _tracer
    if tracer is None:
        return _NO_SPAN
    return _started(tracer, name, kind, traceparent)


def traced(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Callable[..., Attributes] | None = None,
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Decorate a coroutine function: each call runs in a span ``name``.

    ``attributes(*args, **kwargs)`` (the call's own arguments) gives the span's attributes; it is
    called only while tracing is on.
    """

    def decorate(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            tracer = _tracer
            if tracer is None:
                return await function(*args, **kwargs)
            with _started(tracer, name, kind, None) as current:
                if attributes is not None:
                    current.set_attributes(attributes(*args, **kwargs))
                return await function(*args, **kwargs)

        return wrapper

    return decorate


def mark_failed(current: Span, description: str) -> None:
    """Set ``current``'s status to error, with ``description`` (never a secret)."""
    from opentelemetry.trace import Status, StatusCode

    current.set_status(Status(StatusCode.ERROR, description))


def set_attribute(key: str, value: str | bool | int | float) -> None:
    """Set ``key`` on the current span (nothing while tracing is off, or outside a span)."""
    if _tracer is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(key, value)


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent``; None while tracing is off or outside a span."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def inject(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (and ``tracestate``) of the current span to ``headers``; nothing when off."""
    if _tracer is None:
        return
    _propagator.inject(headers)


def stamp(events: Sequence[Event]) -> Sequence[Event]:
    """``events`` carrying the current span as their ``traceparent`` (unchanged while tracing is off)."""
    parent = traceparent()
    if parent is None:
        return events
    return [event.model_copy(update={"traceparent": parent}) for event in events]
