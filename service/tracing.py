"""OpenTelemetry traces, off by default.

With `SLUICEGATE_OTEL_ENDPOINT` set (an OTLP/HTTP collector, e.g. http://127.0.0.1:4318),
every request is a span (FastAPI's instrumentation) and a decision's steps are its children:
`decision.parse`, `decision.evaluate`, `decision.record`. Spans carry the action type, the
outcome and the rule pack's revision, never a proposal's values or a key. Each gateway has
its own tracer provider: nothing global is set, so several gateways in one process (tests)
do not share one.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from service.settings import Settings

TRACER_NAME = "sluicegate"
# Probes and scrapes are not traced: they would drown the requests that matter.
UNTRACED = "healthz,readyz,metrics"


def tracer_provider(
    settings: Settings, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """The gateway's tracer provider, exporting over OTLP/HTTP (or to `exporter`, in tests);
    None when tracing is off."""
    if settings.otel_endpoint is None and exporter is None:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name}),
        # A share of traces (whole traces: a caller's sampled trace is always kept).
        sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        endpoint = str(settings.otel_endpoint).rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def instrument(app: FastAPI, provider: TracerProvider | None) -> None:
    """Trace every request of the app with the provider (nothing when tracing is off)."""
    if provider is None:
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED,
        # One span per request, not three: ASGI's receive and send events are noise here.
        exclude_spans=["receive", "send"],
    )


def tracer_of(provider: TracerProvider | None) -> trace.Tracer:
    """The tracer decisions use: the provider's, or one that records nothing."""
    return provider.get_tracer(TRACER_NAME) if provider is not None else trace.NoOpTracer()
