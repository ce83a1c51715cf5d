"""What the per-request log line costs: the gateway served as `sluicegate serve` runs it, with
request lines on (INFO, to stderr) and off (WARNING), alternated in one run, wrk at c32.

    .venv/bin/python -m bench.request_log_cost
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import PROPOSAL, _load, _port, agent_key, started

ROUNDS = 2
CONNECTIONS = 32


def _serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cli = str(Path(sys.executable).with_name("sluicegate"))
    server = subprocess.Popen(
        [cli, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    return started(server, port)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        url = f"sqlite:///{tmp / 'gate.db'}"
        key = agent_key(url)
        results: dict[str, list[float]] = {"INFO": [], "WARNING": []}
        for _ in range(ROUNDS):
            for level, rates in results.items():
                port = _port()
                env = {"SLUICEGATE_DATABASE_URL": url, "SLUICEGATE_LOG_LEVEL": level}
                server = _serve(port, env, tmp / "server.log")
                try:
                    measured = _load(
                        f"http://127.0.0.1:{port}/v1/decisions", PROPOSAL, key, CONNECTIONS, tmp
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                rates.append(measured["rps"])
                print(f"{level:8} rps={measured['rps']:8.1f}  p50_ms={measured['p50_ms']:.2f}")
        on, off = max(results["INFO"]), max(results["WARNING"])
        lines = sum(1 for _ in (tmp / "server.log").open())
        print(f"request lines on / off (best of {ROUNDS}): {on / off:.2f}  ({lines} log lines)")


if __name__ == "__main__":
    main()
