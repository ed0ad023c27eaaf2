"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, initdb into a temporary
directory, a server that listens on a unix socket in that directory only, one new schema per test."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin nor on PATH: "
    "install Debian's postgresql (`apt-get install postgresql`; scripts/setup.sh does it)"
)


def server_bindir() -> Path:
    """The newest /usr/lib/postgresql/N/bin with initdb, pg_ctl and postgres, else the directory of `initdb` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(found):
        if all((Path(d) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    on_path = shutil.which("initdb")
    if on_path and all((Path(on_path).parent / tool).is_file() for tool in ("pg_ctl", "postgres")):
        return Path(on_path).parent
    pytest.fail(MISSING, pytrace=False)


class Cluster:
    """`Cluster.start()`; `new_database()` gives the URL of a new, empty database (schema); `stop()`."""

    def __init__(self, base: Path, bindir: Path) -> None:
        self.base, self.bindir = base, bindir
        self.data, self.log = base / "data", base / "server.log"
        self._names = itertools.count()
        # root may not run the server: the postgres user does, in a directory it owns
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @classmethod
    def start(cls) -> Cluster:
        bindir = server_bindir()
        base = Path(tempfile.mkdtemp(prefix="generec-pg-"))  # short: a socket path has at most 107 bytes
        cluster = cls(base, bindir)
        if cluster._as:
            shutil.chown(base, "postgres", "postgres")
        cluster._run("initdb", "-D", cluster.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        cluster._run("pg_ctl", "-D", cluster.data, "-l", cluster.log, "-w", "-t", "60", "-o", options, "start")
        return cluster

    def _run(self, tool: str, *args: object) -> None:
        run = subprocess.run([*self._as, str(self.bindir / tool), *map(str, args)], capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            pytest.fail(f"{tool} failed ({run.returncode}): {run.stderr.strip()[-2000:]}\n{log}", pytrace=False)

    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.base}"

    def new_database(self) -> str:
        """The URL of a new, empty schema in the cluster's one test database (a schema is made in
        milliseconds, a database in a few hundred): the URL puts it first on the search path."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            if name == "t0":
                admin.execute("CREATE DATABASE generec")
        with psycopg.connect(self.url("generec"), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return self.url("generec") + f"&options=-csearch_path%3D{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)
