"""Turning tracing on in a process: an OpenTelemetry SDK tracer exporting over OTLP/HTTP.

Called by the subscriber, worker and receiver entry points with ``settings.tracing`` and their
role. With ``enabled = false`` (the default) it does nothing and imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge import __version__, tracing
from bridge.config.secret_refs import read_secret
from bridge.config.tracing import TracingSettings

__all__ = ["start_tracing"]


def start_tracing(settings: TracingSettings, role: str) -> Callable[[], None]:
    """Install a tracer for this process when ``settings.enabled``; returns what flushes and stops it.

    Spans are batched and exported in the background (``BatchSpanProcessor``); a collector that
    is down loses spans, never events. Raises ``ConfigError`` when a header reference cannot be
    resolved.
    """
    if not settings.enabled:
        return lambda: None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    headers = {
        name: read_secret(ref, what=f"tracing.headers.{name}") for name, ref in settings.headers.items()
    }
    resource = Resource({"service.name": f"{settings.service_name}-{role}", "service.version": __version__})
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio))
    )
    exporter = OTLPSpanExporter(endpoint=settings.endpoint, timeout=settings.timeout, headers=headers)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing.install(provider.get_tracer("gws-bridge", __version__))

    def stop() -> None:
        tracing.uninstall()
        provider.shutdown()  # exports what is still batched

    return stop
