"""MCP clients and servers of the official TypeScript SDKs (tests/service/mcp/requester/),
installed by `npm ci` from their lockfile and run with node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration import unavailable

REQUESTER = Path(__file__).parent / "requester"


@pytest.fixture(scope="session")
def node() -> str:
    """Node with the package's dependencies installed (npm, from the registry)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("no node and npm for the official TypeScript MCP SDKs")
    assert node is not None
    assert npm is not None
    if not (REQUESTER / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=REQUESTER,
            check=True,
            timeout=300,
        )
    return node


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
