"""A throw-away PostgreSQL server on a free loopback port, for the Dagster instance storage tests.

PostgreSQL refuses to run as root; as root (CI containers) the cluster runs as the unprivileged
``postgres`` OS user in a directory it owns under /var/tmp (pytest's tmp dirs live under root's
0700 home, which that user cannot enter). This follows scripts/netbox_server.sh, trimmed to one
test-scoped cluster: trust authentication on 127.0.0.1 only, no fsync, removed when stopped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from natflow_pipeline_tests.services.processes import free_port

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"))
OS_USER = os.environ.get("NATFLOW_PG_OS_USER", "postgres")
ROLE = "natflow"
DATABASE = "dagster"


def bin_dir() -> Path | None:
    for directory in BIN_DIRS:
        if all((directory / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@dataclass
class Postgres:
    bin: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _as_pg_user(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "60",
                    "stop",
                ]
            )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb + pg_ctl start on a free port, then create the ``dagster`` database; raises
    RuntimeError (with the server log) when PostgreSQL is missing or does not start."""
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError(
            "PostgreSQL binaries (initdb, pg_ctl, postgres) not found in "
            f"{', '.join(map(str, BIN_DIRS))}"
        )
    root = Path(tempfile.mkdtemp(prefix="natflow-pg-", dir="/var/tmp"))
    server = Postgres(binaries, root, free_port())
    if os.geteuid() == 0:
        user = pwd.getpwnam(OS_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    root.chmod(0o700)
    try:
        _as_pg_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(server.data),
                "-U",
                ROLE,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        )
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "unix_socket_directories = ''\n"
            )
            # dagster dev (webserver, daemon, run workers) holds several pools of connections.
            conf.write("max_connections = 200\n")
        options = f"-c listen_addresses=127.0.0.1 -c port={server.port}"
        _as_pg_user(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(server.data),
                "-l",
                str(server.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        connection = psycopg2.connect(server.url("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        connection.close()
    except (subprocess.CalledProcessError, OSError, psycopg2.Error) as exc:
        log = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
        server.stop()
        raise RuntimeError(
            f"PostgreSQL did not start: {exc}\n{getattr(exc, 'stdout', '') or ''}{log}"
        ) from exc
    except Exception:
        server.stop()
        raise
    return server


def _as_pg_user(command: list[str]) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", OS_USER, "--", "env", "-C", "/", *command]
    subprocess.run(
        command,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
