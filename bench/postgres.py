"""A throwaway PostgreSQL cluster for benchmarks: the tests' cluster, or why there is none."""

from __future__ import annotations

import glob
from contextlib import AbstractContextManager

from tests.postgres import PostgresCluster, postgres_cluster


def throwaway_cluster(*, durable: bool = True) -> AbstractContextManager[PostgresCluster]:
    """A cluster from Debian's server binaries (fsync on unless `durable` is False), or a
    RuntimeError saying why there is none."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        raise RuntimeError("no PostgreSQL server binaries: apt-get install postgresql")
    return postgres_cluster(durable=durable)
