"""A real OPA server process for tests: started, stopped, paused and restarted on loopback."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.integration import unavailable
from tests.loopback import free_port

_START_SECONDS = 20.0


def opa_binary() -> str:
    """The `opa` on PATH (the Makefile puts the pinned build first); skip, or fail under CI."""
    found = shutil.which("opa")
    if found is None:
        unavailable("no `opa` on PATH: `make tools` builds the pinned OPA with Go")
    return found


class OpaProcess:
    """`opa run --server` on 127.0.0.1 with the given extra arguments; keeps its port on restart."""

    def __init__(self, *args: str, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self._args = args
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_for_bundles: bool = False) -> OpaProcess:
        command = [
            opa_binary(),
            "run",
            "--server",
            "--addr",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "error",
            *self._args,
        ]
        output = self._log_file.open("ab") if self._log_file else subprocess.DEVNULL
        self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            self.wait_healthy(bundles=wait_for_bundles)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_healthy(self, *, bundles: bool = False) -> None:
        query = "?bundles" if bundles else ""
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"opa exited with {self._process.returncode}")
            try:
                if httpx.get(f"{self.url}/health{query}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"opa at {self.url} did not become healthy")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)  # a paused process cannot exit
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None

    def pause(self) -> None:
        """Freeze OPA: connections are accepted by the kernel and never answered (a slow OPA)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def __enter__(self) -> OpaProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
