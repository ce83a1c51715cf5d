"""OpenTelemetry: off by default; on, a decision's request span has its steps as children,
and the spans reach an OTLP/HTTP collector."""

from __future__ import annotations

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.tracing import tracer_provider
from tests.fixtures import REFUND
from tests.loopback import serving_app

STEPS = ["decision.parse", "decision.evaluate", "decision.record"]


def _decide(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    _, key = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
    answer = client.post("/v1/decisions", json=REFUND, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    assert client.get("/healthz").status_code == 200  # probes are not traced


def test_a_decision_is_a_request_span_with_its_steps_as_children(settings: Settings) -> None:
    spans = InMemorySpanExporter()
    provider = tracer_provider(settings, exporter=spans)
    with TestClient(create_app(settings, tracing=provider)) as client:
        _decide(client)
    finished = spans.get_finished_spans()
    server = next(s for s in finished if s.name == "POST /v1/decisions")
    steps = [s for s in finished if s.name.startswith("decision.")]
    assert sorted(s.name for s in steps) == sorted(STEPS)
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in steps)
    evaluate = next(s for s in steps if s.name == "decision.evaluate")
    assert evaluate.attributes is not None
    assert evaluate.attributes["sluicegate.outcome"] == "route_to_human"
    assert evaluate.attributes["sluicegate.action_type"] == "payments.refund.issue"
    assert not any("healthz" in s.name for s in finished)
    # Nothing of the proposal's values or the key is in any span.
    text = repr([dict(s.attributes or {}) for s in finished])
    assert "duplicate charge" not in text
    assert "sg_" not in text


def test_spans_reach_an_otlp_collector(settings: Settings) -> None:
    received: list[bytes] = []

    async def collect(request: Request) -> Response:
        received.append(await request.body())
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", collect, methods=["POST"])])
    with serving_app(collector) as url:
        traced = settings.model_copy(update={"otel_endpoint": url})
        with TestClient(create_app(traced)) as client:
            _decide(client)
        # Leaving the app shut its provider down, which sends what was batched.
    body = b"".join(received)
    assert all(step.encode() in body for step in STEPS)
    assert b"POST /v1/decisions" in body


def test_tracing_is_off_by_default(settings: Settings) -> None:
    assert settings.otel_endpoint is None
    assert tracer_provider(settings) is None
