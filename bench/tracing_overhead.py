"""What OpenTelemetry tracing costs over HTTP: the gate with tracing off, on for every request,
and on for a tenth (exporting over OTLP/HTTP to a local collector that accepts and drops the
spans), alternating in one run under wrk at 32 connections; the best of each and the ratios.

    python -m bench.tracing_overhead      (needs `wrk`; BENCH_DURATION, default 10s)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.run import PROPOSAL, _load, _port, _serve, agent_key
from tests.loopback import serving_app

CONNECTIONS = 32


async def _drop(request: Request) -> Response:
    await request.body()
    return Response(b"", media_type="application/x-protobuf")


def main() -> None:
    collector = Starlette(routes=[Route("/v1/traces", _drop, methods=["POST"])])
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory, serving_app(collector) as collector_url:
        workdir = Path(directory)
        for round_ in range(2):
            for mode in ("off", "on", "on-10%"):
                url = f"sqlite:///{workdir / f'{mode}-{round_}.db'}"
                key = agent_key(url)
                env = {"SLUICEGATE_DATABASE_URL": url}
                if mode != "off":
                    env["SLUICEGATE_OTEL_ENDPOINT"] = collector_url
                if mode == "on-10%":
                    env["SLUICEGATE_OTEL_SAMPLE_RATIO"] = "0.1"
                port = _port()
                server = _serve(["--factory", "service.app:create_app"], port, env)
                try:
                    found = _load(
                        f"http://127.0.0.1:{port}/v1/decisions",
                        PROPOSAL,
                        key,
                        CONNECTIONS,
                        workdir,
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                print(
                    f"tracing {mode}: {found['rps']:.0f} req/s, p50 {found['p50_ms']:.1f} ms, "
                    f"p99 {found['p99_ms']:.1f} ms"
                )
                if mode not in best or found["rps"] > best[mode]["rps"]:
                    best[mode] = found
    for mode in ("on", "on-10%"):
        ratio = best[mode]["rps"] / best["off"]["rps"]
        print(
            f"tracing {mode} / off: {ratio:.2f} of the throughput "
            f"(p99 {best[mode]['p99_ms']:.1f} ms against {best['off']['p99_ms']:.1f} ms)"
        )


if __name__ == "__main__":
    main()
