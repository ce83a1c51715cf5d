"""The README's five-minute tour, run as written against a freshly served gateway, so the tour
cannot drift from what the gateway does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from service.settings import Settings
from tests.fixtures import RULES
from tests.loopback import serving

ROOT = Path(__file__).parents[1]
DEFAULT_GATE = "GATE=http://127.0.0.1:8000"


def tour_blocks() -> list[str]:
    """The shell blocks of the README's tour section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## Five-minute tour") : readme.index("## Configuration")]
    return re.findall(r"^```sh\n(.*?)^```", tour, flags=re.M | re.S)


def test_the_tour_has_every_step() -> None:
    script = "\n".join(tour_blocks())
    for step in ("keys create --role agent", "/proceed", "/outcome", "--role auditor", "since="):
        assert step in script
    assert script.count(DEFAULT_GATE) == 1


def test_the_readme_tour_runs(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'sluicegate.db'}"
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # the tour calls .venv/bin/sluicegate
    with serving(Settings(database_url=database_url, rules=RULES)) as base:
        script = "\n".join(tour_blocks()).replace(DEFAULT_GATE, f"GATE={base}")
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script],
            cwd=tmp_path,
            env=os.environ | {"SLUICEGATE_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}"
    out = done.stdout
    assert '"outcome":"route_to_human"' in out
    assert "approved\n" in out
    assert '"status":"verified"' in out
    assert "outcome_reported\n" in out
    assert "OK: " in out
