"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temporary data
directory, loopback only, trust auth for one test role; a fresh database per test."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.integration import unavailable
from tests.loopback import free_port

_USER = "sluicegate"


def _server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("no PostgreSQL server binaries: `.ci/run` installs Debian's postgresql")
    return Path(found[-1]).parent


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's package creates the `postgres` user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresCluster:
    """One running server; `database()` hands out an empty database URL."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port

    def database(self) -> str:
        """A new empty database, as a SQLAlchemy URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # a generated name, not input
        return f"postgresql+psycopg://{_USER}@127.0.0.1:{self.port}/{name}"

    def take_down(self, url: str) -> None:
        """The database refuses connections and loses the ones it had, as when its server is
        down (the cluster itself keeps serving the other tests)."""
        self._admin(url, "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")

    def make_read_only(self, url: str) -> None:
        """New transactions on the database cannot write, as on a standby."""
        self._admin(url, "ALTER DATABASE {name} SET default_transaction_read_only = on")

    def bring_back(self, url: str) -> None:
        """Undo `take_down` and `make_read_only`."""
        self._admin(url, "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
        self._admin(url, "ALTER DATABASE {name} RESET default_transaction_read_only")

    def _admin(self, url: str, statement: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(statement.format(name=f'"{name}"'))  # a generated name
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={_USER} dbname={database}"


@contextmanager
def postgres_cluster(*, durable: bool = False) -> Iterator[PostgresCluster]:
    """Start a cluster in a temporary folder; stop and delete it afterwards. Tests run it
    without fsync; a benchmark that compares durable commits asks for `durable`."""
    binaries = _server_bin()
    folder = Path(tempfile.mkdtemp(prefix="sluicegate-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
    subprocess.run(
        _as_postgres(
            [str(binaries / "initdb"), "-D", str(data), "-U", _USER, "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    if not durable:
        options += " -c fsync=off"
    subprocess.run(
        _as_postgres([*ctl, "-o", options, "-l", str(folder / "server.log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresCluster(folder, port)
    finally:
        subprocess.run(_as_postgres([*ctl, "-m", "fast", "stop"]), check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
