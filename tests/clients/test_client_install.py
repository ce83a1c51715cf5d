"""`pip install ./clients/python` into an empty virtual environment brings no server code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import unavailable

CLIENT = Path(__file__).parents[2] / "clients" / "python"
SERVER_ONLY = ("fastapi", "sqlmodel", "sqlalchemy", "regopy", "starlette", "uvicorn", "alembic")


@pytest.mark.integration
def test_the_client_installs_alone(tmp_path: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        unavailable("no uv to build a clean virtual environment")
    venv = tmp_path / "agent-venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    # A copy, so the install cannot see the server's source tree next to the client.
    source = shutil.copytree(CLIENT, tmp_path / "client", ignore=shutil.ignore_patterns("tests"))
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), str(source)],
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
    assert not [name for name in SERVER_ONLY if name in installed]
    probe = (
        "import sys, sluicegate_client\n"
        "assert not {'fastapi', 'sqlmodel', 'sqlalchemy', 'regopy', 'policy', 'service'}"
        " & set(sys.modules)\n"
        "print(sluicegate_client.GateClient.__name__)\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "GateClient"
