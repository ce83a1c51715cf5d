"""What the MCP proxy adds to an allowed tool call: the SDK's client calling
`lookup_payment` on the example payments server directly (stdio), against the same call
through the proxy (streamable HTTP, a decision by a real gateway, the outcome reported).

    python -m bench.mcp_proxy_latency

prints the median and p90 of each and their ratio, measured in one run (BENCH_CALLS calls
each, 200 unless set)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import httpx2
import yaml
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bench.run import agent_key, started
from service.mcp.config import ProxyConfig
from service.mcp.server import proxy_app
from tests.loopback import free_port
from tests.service.mcp.test_mcp_proxy import EXAMPLE, _config, _serve

CALLS = int(os.environ.get("BENCH_CALLS", "200"))
WARM_UP = 20


async def _time(client: Client) -> list[float]:
    for _ in range(WARM_UP):
        await client.call_tool("lookup_payment", {"ticket": "T-1"})
    seconds = []
    for _ in range(CALLS):
        start = time.perf_counter()
        answer = await client.call_tool("lookup_payment", {"ticket": "T-1"})
        seconds.append(time.perf_counter() - start)
        assert not answer.is_error
    return seconds


async def _direct() -> list[float]:
    server = StdioServerParameters(
        command=sys.executable, args=[str(EXAMPLE / "payments_server.py")]
    )
    async with Client(server) as client:
        return await _time(client)


async def _proxied(proxy: str, key: str) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(proxy, http_client=http)) as client,
    ):
        return await _time(client)


def _report(name: str, seconds: list[float]) -> float:
    median = statistics.median(seconds) * 1000
    p90 = statistics.quantiles(seconds, n=10)[-1] * 1000
    print(f"{name:>8}: median {median:.2f} ms, p90 {p90:.2f} ms ({len(seconds)} calls)")
    return median


def _proxy_process(
    config: ProxyConfig, folder: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """`sluicegate mcp-proxy` on the same configuration, on a new port, once it answers; and
    its MCP endpoint."""
    port = free_port()
    document = config.model_dump(mode="json", exclude_none=True)
    document["listen"] = {"host": "127.0.0.1", "port": port}
    path = folder / "proxy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    command = [str(Path(sys.executable).parent / "sluicegate"), "mcp-proxy", "--config", str(path)]
    proxy = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
            return proxy, f"http://127.0.0.1:{port}/mcp"
        except httpx.HTTPError:
            time.sleep(0.2)
    proxy.kill()
    raise SystemExit("the proxy did not start")


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'gate.db'}"
    key = agent_key(url)
    port = free_port()
    env = {**os.environ, "SLUICEGATE_DATABASE_URL": url, "SLUICEGATE_LOG_LEVEL": "WARNING"}
    gate = subprocess.Popen(
        [str(Path(sys.executable).parent / "sluicegate"), "serve", "--port", str(port)], env=env
    )
    try:
        started(gate, port)
        config: ProxyConfig = _config(f"http://127.0.0.1:{port}", free_port(), folder / "calls")
        direct = _report("direct", asyncio.run(_direct()))
        for proxy in _serve(proxy_app(config), config.listen.port):
            proxied = _report("proxied", asyncio.run(_proxied(proxy, key)))
        print(f"proxied / direct (median): {proxied / direct:.1f}x")
        # The same, with the proxy in a process of its own (as `sluicegate mcp-proxy` runs):
        # the client above shares its process and its GIL with the proxy.
        alone, url = _proxy_process(config, folder, env)
        try:
            separate = _report("separate", asyncio.run(_proxied(url, key)))
        finally:
            alone.terminate()
            alone.wait()
        print(f"proxied in its own process / direct (median): {separate / direct:.1f}x")
    finally:
        gate.terminate()
        gate.wait()


if __name__ == "__main__":
    main()
