"""MCP clients and servers of the official TypeScript SDKs (tests/service/mcp/requester/),
installed by `npm ci` from their lockfile and run with node."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node import node_with_packages

REQUESTER = Path(__file__).parent / "requester"


@pytest.fixture(scope="session")
def node() -> str:
    """Node with the package's dependencies installed (npm, from the registry)."""
    return node_with_packages(REQUESTER, "@modelcontextprotocol/sdk")


def run_node(node: str, script: str, *arguments: str) -> dict[str, Any]:
    """Run one of the scripts; its last line of output is JSON."""
    done = subprocess.run(
        [node, str(REQUESTER / script), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ | {"NODE_NO_WARNINGS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer
