"""One run, one machine: (a) bare FastAPI, (b) the gate over HTTP, (c) the gate in process.

Both servers run as uvicorn with the same settings (one process, loopback, no access log);
load comes from wrk in a separate process at concurrency 32 and 64. Prints throughput and
p50/p99 for each and the ratio b/a. Usage: `make bench` (needs `wrk`: apt-get install wrk).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from policy.context import Agent
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.gateway import build_gate
from service.principals import Role, create_key
from service.settings import Settings
from service.store.database import make_engine, migrate

DURATION = os.environ.get("BENCH_DURATION", "10s")
CONCURRENCY = (32, 64)
# A tier-1 CRM change in production: the gate evaluates every rule and samples it.
PROPOSAL = {
    "action": {"type": "crm.contact.update", "environment": "production", "target": "salesforce"},
    "changes": [
        {
            "record": "contact/9",
            "field": "title",
            "from": "CTO",
            "to": "CEO",
            "source": "linkedin/9",
        }
    ],
    "justification": "title changed on the public profile",
    "confidence": 0.9,
    "work_item": {"id": "WI-1", "type": "crm-hygiene"},
}
LUA = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %f %f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end
"""


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(target: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def _load(port: int, key: str, connections: int, workdir: Path) -> dict[str, float]:
    script = workdir / "post.lua"
    script.write_text(LUA.replace("{body}", json.dumps(PROPOSAL)).replace("{key}", key))
    # Warm up, then measure.
    url = f"http://127.0.0.1:{port}/v1/decisions"
    subprocess.run(
        ["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, check=True
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out.stdout)
    assert found, out.stdout
    requests, micros, p50, p99, bad = found.groups()
    if int(bad):
        raise SystemExit(f"{bad} non-2xx answers during the run")
    return {
        "rps": int(requests) / (int(micros) / 1e6),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
    }


def _in_process(rules: Path, count: int = 3000) -> dict[str, float]:
    gate = build_gate(Settings(rules=rules), load_rule_pack(rules))
    proposal = Proposal.model_validate(PROPOSAL)
    agent = Agent(id="bench", name="bench", scopes=("*",))
    for _ in range(200):
        gate.decide(proposal, agent)
    started = time.perf_counter()
    for _ in range(count):
        gate.decide(proposal, agent)
    elapsed = time.perf_counter() - started
    gate.close()
    return {"rps": count / elapsed, "mean_ms": elapsed / count * 1000}


def main() -> None:
    """Run the three measurements and print them."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="sluicegate-bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        _, key = create_key(engine, name="bench", role=Role.AGENT, scopes=["*"])
        engine.dispose()
        results: dict[str, dict[str, float]] = {}
        for name, target, env in (
            ("a_bare_fastapi", ["bench.bare_app:app"], {}),
            (
                "b_gate_http",
                ["--factory", "service.app:create_app"],
                {"SLUICEGATE_DATABASE_URL": url},
            ),
        ):
            port = _port()
            server = _serve(target, port, env)
            try:
                for connections in CONCURRENCY:
                    results[f"{name}_c{connections}"] = _load(port, key, connections, workdir)
            finally:
                server.terminate()
                server.wait(timeout=10)
        results["c_gate_in_process"] = _in_process(settings.rules)
    for name, figures in results.items():
        shown = "  ".join(f"{k}={v:,.2f}" for k, v in figures.items())
        print(f"{name:24} {shown}")
    for connections in CONCURRENCY:
        ratio = (
            results[f"b_gate_http_c{connections}"]["rps"]
            / results[f"a_bare_fastapi_c{connections}"]["rps"]
        )
        print(f"ratio b/a at concurrency {connections}: {ratio:.2f}")


if __name__ == "__main__":
    main()
