"""One run, one machine: the gate against a bare endpoint, and embedded Rego against OPA.

(a) bare FastAPI, (b) the gate over HTTP on embedded Rego, (c) the gate in process on embedded
Rego (no store), (i) the gate in process with the durable record at 1 and 16 callers, (d) the
gate over HTTP on an OPA sidecar, (e) OPA alone on the same input (the floor for d), (f) the
gate in process on OPA; then, when PostgreSQL's server binaries are here, (g) bare FastAPI and
(h) the gate on PostgreSQL, as one and as two worker processes. Servers run as uvicorn with the
same settings (one process unless said, loopback, no access log); load comes from wrk in a
separate process at concurrency 32 and 64. Prints throughput, p50/p99 and the server's CPU time
per request (user + system, every process of the server: it compares across machines where
throughput does not) for each, and the ratios. Usage: `make bench` (needs `wrk`: apt-get install
wrk, and `opa`: `make tools`).
"""

from __future__ import annotations

import asyncio
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

from bench.postgres import throwaway_cluster
from policy.assessment import assess
from policy.context import Agent, EvaluationContext
from policy.opa_bundle import write_bundle_dir
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.embedded import open_gate
from service.engines import build_gate
from service.settings import Settings
from service.store.database import database_engine, migrate

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
    return started(subprocess.Popen(command, env={**os.environ, **env}), port)


def started(server: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """The server, once it answers on the port (within a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def agent_key(database_url: str) -> str:
    """A new agent key (every scope) on a migrated store."""
    database = database_engine(database_url)
    migrate(database)
    _, key = create_key(database, name="bench", role=Role.AGENT, scopes=["*"])
    database.dispose()
    return key


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        used[child] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(used.get(member, 0.0) for member in tree)


def _load(
    url: str,
    body: object,
    key: str,
    connections: int,
    workdir: Path,
    *,
    duration: str = DURATION,
    server_pid: int | None = None,
) -> dict[str, float]:
    script = workdir / "post.lua"
    script.write_text(LUA.replace("{body}", json.dumps(body)).replace("{key}", key))
    # Warm up, then measure.
    subprocess.run(
        ["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, check=True
    )
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else float("nan")
    found = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out.stdout)
    assert found, out.stdout
    requests, micros, p50, p99, bad = found.groups()
    if int(bad):
        raise SystemExit(f"{bad} non-2xx answers during the run")
    return {
        "rps": int(requests) / (int(micros) / 1e6),
        "p50_ms": float(p50) / 1000,
        "p99_ms": float(p99) / 1000,
        "cpu_us": cpu / int(requests) * 1e6,
    }


def _in_process(settings: Settings, count: int = 3000) -> dict[str, float]:
    gate = build_gate(settings, load_rule_pack(settings.rules))
    proposal = Proposal.model_validate(PROPOSAL)
    agent = Agent(id="bench", name="bench", scopes=("*",))
    for _ in range(200):
        assert gate.decide(proposal, agent).fail_closed is None
    took: list[float] = []
    started, cpu_before = time.perf_counter(), time.process_time()
    for _ in range(count):
        before = time.perf_counter()
        gate.decide(proposal, agent)
        took.append(time.perf_counter() - before)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    gate.close()
    took.sort()
    return {
        "rps": count / elapsed,
        "p50_ms": took[len(took) // 2] * 1000,
        "p99_ms": took[int(len(took) * 0.99)] * 1000,
        "cpu_us": cpu / count * 1e6,  # this process: the OPA sidecar's own time is not in it
    }


def _durable_in_process(url: str, callers: int, seconds: float = 8.0) -> dict[str, float]:
    """The gate in process with the durable record (`open_gate`, the path `POST /v1/decisions`
    takes without HTTP): `callers` concurrent asyncio callers; CPU is this process's."""
    with open_gate(database_url=url) as gate:

        async def run(until: float, took: list[float]) -> None:
            async def caller() -> None:
                while time.perf_counter() < until:
                    before = time.perf_counter()
                    await gate.adecide(PROPOSAL, agent="bench-durable")
                    took.append(time.perf_counter() - before)

            await asyncio.gather(*(caller() for _ in range(callers)))

        asyncio.run(run(time.perf_counter() + 1.0, []))  # warm-up
        took: list[float] = []
        started, cpu_before = time.perf_counter(), time.process_time()
        asyncio.run(run(started + seconds, took))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    took.sort()
    return {
        "rps": len(took) / elapsed,
        "p50_ms": took[len(took) // 2] * 1000,
        "p99_ms": took[int(len(took) * 0.99)] * 1000,
        "cpu_us": cpu / len(took) * 1e6,
    }


def _opa_input(rules: Path) -> dict[str, object]:
    """The input document the gateway sends OPA for the benchmark's proposal."""
    pack = load_rule_pack(rules)
    proposal = Proposal.model_validate(PROPOSAL)
    entry = pack.data.catalog[proposal.action.type]
    context = EvaluationContext(
        proposal=proposal,
        assessment=assess(proposal, entry, pack.data.limits),
        agent=Agent(id="bench", name="bench", scopes=("*",)),
    )
    return {"input": context.document}


def _gateway_runs(
    results: dict[str, dict[str, float]],
    name: str,
    env: dict[str, str],
    key: str,
    tmp: Path,
    *,
    target: tuple[str, ...] = ("--factory", "service.app:create_app"),
    connections: tuple[int, ...] = CONCURRENCY,
) -> None:
    port = _port()
    server = _serve(list(target), port, env)
    try:
        for count in connections:
            url = f"http://127.0.0.1:{port}/v1/decisions"
            results[f"{name}_c{count}"] = _load(
                url, PROPOSAL, key, count, tmp, server_pid=server.pid
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


def _scale_out_runs(results: dict[str, dict[str, float]], workdir: Path) -> None:
    """(g) bare FastAPI and (h) the gate on PostgreSQL (fsync on), each as 1 and 2 uvicorn
    worker processes: what a second process buys on this machine (`serve --workers`)."""
    try:
        cluster = throwaway_cluster()
    except RuntimeError as exc:
        print(f"scale-out: not measured ({exc})")
        return
    with cluster as postgres:
        url = postgres.database()
        key = agent_key(url)
        env = {"SLUICEGATE_DATABASE_URL": url, "SLUICEGATE_AUDIT_SIGNING_KEY": new_private_pem()}
        for workers in (1, 2):
            processes = ("--workers", str(workers))
            _gateway_runs(
                results,
                f"g_bare_fastapi_{workers}w",
                {},
                key,
                workdir,
                target=("bench.bare_app:app", *processes),
                connections=(32,),
            )
            _gateway_runs(
                results,
                f"h_gate_http_postgres_{workers}w",
                env,
                key,
                workdir,
                target=("--factory", "service.app:create_app", *processes),
                connections=(32,),
            )


def main() -> None:
    """Run the measurements and print them."""
    for tool in ("wrk", "opa"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install wrk; make tools (for opa)")
    rules = Settings().rules
    pack = load_rule_pack(rules)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sluicegate-bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'bench.db'}"
        key = agent_key(url)

        port = _port()
        bare = _serve(["bench.bare_app:app"], port, {})
        try:
            for connections in CONCURRENCY:
                results[f"a_bare_fastapi_c{connections}"] = _load(
                    f"http://127.0.0.1:{port}/v1/decisions",
                    PROPOSAL,
                    key,
                    connections,
                    workdir,
                    server_pid=bare.pid,
                )
        finally:
            bare.terminate()
            bare.wait(timeout=10)
        _gateway_runs(results, "b_gate_http", {"SLUICEGATE_DATABASE_URL": url}, key, workdir)
        results["c_gate_in_process"] = _in_process(Settings(rules=rules))
        for callers in (1, 16):
            durable = f"sqlite:///{workdir / f'durable-{callers}.db'}"
            results[f"i_gate_durable_{callers}_caller"] = _durable_in_process(durable, callers)

        bundle = write_bundle_dir(pack, workdir / "bundle")
        opa_port = _port()
        opa = subprocess.Popen(
            [
                "opa",
                "run",
                "--server",
                "--addr",
                f"127.0.0.1:{opa_port}",
                "--log-level",
                "error",
                "--bundle",
                str(bundle),
            ],
        )
        try:
            time.sleep(1.0)
            opa_env = {
                "SLUICEGATE_DATABASE_URL": url,
                "SLUICEGATE_REGO_BACKEND": "opa",
                "SLUICEGATE_OPA_URL": f"http://127.0.0.1:{opa_port}",
                "SLUICEGATE_OPA_BUNDLE": str(bundle),
            }
            _gateway_runs(results, "d_gate_http_opa", opa_env, key, workdir)
            for connections in CONCURRENCY:
                results[f"e_opa_alone_c{connections}"] = _load(
                    f"http://127.0.0.1:{opa_port}/v1/data/sluicegate/verdicts",
                    _opa_input(rules),
                    key,
                    connections,
                    workdir,
                    server_pid=opa.pid,
                )
            results["f_gate_in_process_opa"] = _in_process(
                Settings(
                    rules=rules,
                    rego_backend="opa",
                    opa_url=f"http://127.0.0.1:{opa_port}",
                    opa_bundle=str(bundle),
                )
            )
        finally:
            opa.terminate()
            opa.wait(timeout=10)
        _scale_out_runs(results, workdir)
    _report(results)


def _report(results: dict[str, dict[str, float]]) -> None:
    for name, figures in results.items():
        shown = "  ".join(f"{k}={v:,.2f}" for k, v in figures.items())
        print(f"{name:26} {shown}")
    for connections in CONCURRENCY:
        rps = {
            name: results[f"{name}_c{connections}"]["rps"]
            for name in ("a_bare_fastapi", "b_gate_http", "d_gate_http_opa", "e_opa_alone")
        }
        p99 = {
            name: results[f"{name}_c{connections}"]["p99_ms"]
            for name in ("a_bare_fastapi", "b_gate_http")
        }
        print(
            f"concurrency {connections}: b/a {rps['b_gate_http'] / rps['a_bare_fastapi']:.2f} "
            f"(goal >= 0.35), p99 b/a {p99['b_gate_http'] / p99['a_bare_fastapi']:.1f}x "
            f"(goal <= 3)  d/b {rps['d_gate_http_opa'] / rps['b_gate_http']:.2f} (goal >= 0.8)  "
            f"d/e {rps['d_gate_http_opa'] / rps['e_opa_alone']:.2f}"
        )
    print(
        "CPU per decision: over HTTP (b, c32) "
        f"{results['b_gate_http_c32']['cpu_us']:,.0f} us, bare FastAPI (a, c32) "
        f"{results['a_bare_fastapi_c32']['cpu_us']:,.0f} us; in process with the durable record "
        f"(i) 1 / 16 callers {results['i_gate_durable_1_caller']['cpu_us']:,.0f} / "
        f"{results['i_gate_durable_16_caller']['cpu_us']:,.0f} us"
    )
    in_process = results["f_gate_in_process_opa"]["p50_ms"] / results["c_gate_in_process"]["p50_ms"]
    print(f"in process, p50 latency OPA / embedded: {in_process:.2f}")
    if "h_gate_http_postgres_2w_c32" in results:
        for workers in (1, 2):
            gate_rps = results[f"h_gate_http_postgres_{workers}w_c32"]["rps"]
            bare_rps = results[f"g_bare_fastapi_{workers}w_c32"]["rps"]
            print(f"PostgreSQL, {workers} worker process(es), c32: h/g {gate_rps / bare_rps:.2f}")
        two = results["h_gate_http_postgres_2w_c32"]["rps"]
        one = results["h_gate_http_postgres_1w_c32"]["rps"]
        print(f"PostgreSQL, the gate with 2 workers / 1 worker: {two / one:.2f}")


if __name__ == "__main__":
    main()
