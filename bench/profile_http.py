"""Where a request's Python time goes: the gateway under load, sampled by py-spy.

Serves the gateway as `bench.run` does (one uvicorn process, SQLite, the default pack), drives
it with wrk at 32 connections, and samples it with `py-spy record --gil` (only the thread
holding the GIL: in one process that is the time that bounds throughput). Writes a flame
graph and the raw samples, then prints the GIL time per request for the frames that matter
most. py-spy slows the server, so compare two runs of this script, not its figures with
`bench.run`'s. Usage: `make profile` (OUT=folder, SECONDS=n); py-spy needs ptrace, which root
or `kernel.yama.ptrace_scope=0` allows.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from bench.run import LUA, PROPOSAL, _port, _serve, agent_key


def _inclusive(raw: Path) -> tuple[collections.Counter[str], int]:
    """Samples per frame (counted once per stack) and the total, from py-spy's raw format."""
    frames: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        seen = {re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")}
        for frame in seen:
            frames[frame] += int(count)
    return frames, total


def main() -> None:
    parser = argparse.ArgumentParser(description="py-spy profile of the gateway over HTTP")
    parser.add_argument("--out", default=".bench", help="folder for the flame graph and samples")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sluicegate-profile-") as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'profile.db'}"
        key = agent_key(url)
        script = workdir / "post.lua"
        script.write_text(LUA.replace("{body}", json.dumps(PROPOSAL)).replace("{key}", key))
        port = _port()
        server = _serve(
            ["--factory", "service.app:create_app"], port, {"SLUICEGATE_DATABASE_URL": url}
        )
        target = f"http://127.0.0.1:{port}/v1/decisions"
        try:
            subprocess.run(
                ["wrk", "-t1", "-c8", "-d2s", "-s", str(script), target],
                check=True,
                capture_output=True,
            )
            load = subprocess.Popen(
                ["wrk", "-t2", "-c32", f"-d{arguments.seconds}s", "-s", str(script), target],
                stdout=subprocess.PIPE,
                text=True,
            )
            sampled = arguments.seconds // 2  # seconds, for each of the two recordings
            samples: dict[str, Path] = {
                "raw": out / "profile.txt",
                "flamegraph": out / "profile.svg",
            }
            for form, path in samples.items():
                subprocess.run(
                    [
                        "py-spy", "record", "--gil", "--rate", str(arguments.rate),
                        "--duration", str(sampled), "--format", form,
                        "--output", str(path), "--pid", str(server.pid),
                    ],
                    check=True,
                    capture_output=True,
                )  # fmt: skip
            report, _ = load.communicate()
        finally:
            server.terminate()
            server.wait(timeout=10)
    found = re.search(r"RESULT (\d+) (\d+)", report)
    assert found, report
    rate = int(found.group(1)) / (int(found.group(2)) / 1e6)
    frames, total = _inclusive(samples["raw"])
    # One sample stands for 1/rate s of GIL time; spread over the requests of the sampled time.
    per_request = 1e6 / arguments.rate / (rate * sampled)
    print(f"{rate:,.0f} req/s under the profiler, {total} samples")
    print(f"flame graph: {samples['flamegraph']}")
    print(f"GIL time per request, all threads: {total * per_request:,.0f} us")
    ours = [(f, c) for f, c in frames.most_common() if "(service/" in f or "(policy/" in f]
    for frame, count in ours[:25]:
        print(f"  {count * per_request:7,.0f} us  {frame}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
