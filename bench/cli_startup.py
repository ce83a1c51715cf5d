"""How long `sluicegate --help` takes against `python -c "import typer"`, in one run.

Both are started ROUNDS times, interleaved, as fresh processes; the medians and their ratio are
printed. The goal (issue 11): the CLI's help at most 2x the bare typer import.

    .venv/bin/python -m bench.cli_startup
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 15
CLI = str(Path(sys.executable).with_name("sluicegate"))


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    typer_import: list[float] = []
    cli_help: list[float] = []
    for _ in range(ROUNDS):
        typer_import.append(_seconds([sys.executable, "-c", "import typer"]))
        cli_help.append(_seconds([CLI, "--help"]))
    floor, ours = statistics.median(typer_import), statistics.median(cli_help)
    print(f"python -c 'import typer'  median {floor * 1000:6.1f} ms  ({ROUNDS} runs)")
    print(f"sluicegate --help         median {ours * 1000:6.1f} ms")
    print(f"ratio                     {ours / floor:.2f}x  (goal: at most 2x)")


if __name__ == "__main__":
    main()
