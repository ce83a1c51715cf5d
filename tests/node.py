"""Node, with a folder's npm packages installed from its lockfile (`npm ci`, from the registry),
for the tests that run official JavaScript clients, servers and providers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.integration import unavailable


def node_with_packages(folder: Path, package: str) -> str:
    """The node executable, once `folder`'s packages (`package` among them) are installed;
    skip, or fail under CI, without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable(f"no node and npm for {package} ({folder.name})")
    assert node is not None
    assert npm is not None
    if not (folder / "node_modules" / package).is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True, timeout=300
        )
    return node
