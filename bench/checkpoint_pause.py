"""What the periodic checkpoint costs requests: the gate over HTTP for 30 s at c32, signing
a checkpoint every 10 s against never, twice each, alternating, in one run.

A checkpoint verifies every event since the last one before signing (CPU-bound Python on a
background thread); paced, it leaves the event loop its GIL (service/audit/checkpointer.py).
Prints req/s and p99 for each and the p99 ratio. Usage: `python -m bench.checkpoint_pause`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.run import PROPOSAL, _load, _port, _serve, agent_key

SECONDS = "30s"
CASES = {"every 10 s": "10", "never (3600 s)": "3600"}


def main() -> None:
    found: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory(prefix="sluicegate-checkpoints-") as folder:
        workdir = Path(folder)
        for round_ in range(2):
            for name, seconds in CASES.items():
                url = f"sqlite:///{workdir / f'{round_}-{seconds}.db'}"
                key = agent_key(url)
                env = {
                    "SLUICEGATE_DATABASE_URL": url,
                    "SLUICEGATE_AUDIT_CHECKPOINT_SECONDS": seconds,
                }
                port = _port()
                server = _serve(["--factory", "service.app:create_app"], port, env)
                try:
                    target = f"http://127.0.0.1:{port}/v1/decisions"
                    found[name].append(_load(target, PROPOSAL, key, 32, workdir, duration=SECONDS))
                finally:
                    server.terminate()
                    server.wait(timeout=10)
    for name, runs in found.items():
        shown = ", ".join(f"{r['rps']:,.0f} req/s p99 {r['p99_ms']:.1f} ms" for r in runs)
        print(f"checkpoint {name:<16} {shown}")
    every = min(r["p99_ms"] for r in found["every 10 s"])
    never = min(r["p99_ms"] for r in found["never (3600 s)"])
    print(f"p99 with checkpoints / without: {every / never:.2f}")


if __name__ == "__main__":
    main()
