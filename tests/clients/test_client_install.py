"""`pip install ./clients/python` into an empty virtual environment brings no server code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import unavailable

CLIENT = Path(__file__).parents[2] / "clients" / "python"
SERVER_ONLY = (
    "fastapi",
    "sqlmodel",
    "sqlalchemy",
    "sluicegate-native",
    "starlette",
    "uvicorn",
    "alembic",
)
# With the framework extras, what a framework brings for itself is its business (the OpenAI
# Agents SDK brings the MCP SDK, and with it starlette and uvicorn); the server's own never.
SERVER_OWN = ("sluicegate", "fastapi", "sqlmodel", "sqlalchemy", "sluicegate-native", "alembic")
PLAIN = ("", SERVER_ONLY, "import sluicegate_client\n")
EXTRAS = (
    "[langchain,langgraph,openai-agents]",
    SERVER_OWN,
    "import sluicegate_client.langchain, sluicegate_client.langgraph\n"
    "import sluicegate_client.openai_agents\n",
)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("extras", "forbidden", "imports"), [PLAIN, EXTRAS], ids=["plain", "extras"]
)
def test_the_client_installs_alone(
    tmp_path: Path, extras: str, forbidden: tuple[str, ...], imports: str
) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        unavailable("no uv to build a clean virtual environment")
    venv = tmp_path / "agent-venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    # A copy, so the install cannot see the server's source tree next to the client.
    source = shutil.copytree(CLIENT, tmp_path / "client", ignore=shutil.ignore_patterns("tests"))
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), f"{source}{extras}"],
        check=True,
        timeout=300,
    )
    listed = subprocess.run(
        [uv, "pip", "list", "--python", str(python), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    installed = {line.lower() for line in listed.replace('"', " ").split()}
    assert "sluicegate-client" in installed
    assert not [name for name in forbidden if name in installed]
    probe = (
        f"import sys\n{imports}"
        "assert not {'fastapi', 'sqlmodel', 'sqlalchemy', 'sluicegate_native', 'policy', 'service'}"
        " & set(sys.modules)\n"
        "print(sluicegate_client.GateClient.__name__)\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "GateClient"
