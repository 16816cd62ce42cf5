"""A PostgreSQL primary and its streaming replica, made for a test in a folder of its own.

Debian's PostgreSQL server programs (``initdb``, ``pg_basebackup -R``, ``pg_ctl``) run as
the ``postgres`` user; both servers listen on loopback ports nobody else uses and are
stopped and removed when the test is done, so nothing of the machine's own cluster changes.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> None:
    """Run a server program as ``postgres`` (it refuses root); failing loudly."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


@dataclass
class Server:
    data: Path
    port: int
    sockets: Path

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
        # With a log file of its own, the server does not hold our pipe open after pg_ctl.
        log = str(self.sockets / f"{self.data.name}.log")
        _as_postgres(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", log, "-o", options, "start"
        )

    def stop(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser; its rows, if it returns any."""
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []


class Pair:
    """``primary`` and ``replica``, started; ``close()`` stops both and removes them."""

    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15's server programs are not in {BIN}")
        self.root = Path(tempfile.mkdtemp(prefix="parley-replication-"))
        postgres = pwd.getpwnam("postgres")
        os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
        self.primary = Server(self.root / "primary", _free_port(), self.root)
        self.replica = Server(self.root / "replica", _free_port(), self.root)
        _as_postgres(
            str(BIN / "initdb"), "-D", str(self.primary.data), "-A", "trust", "-U", "postgres"
        )
        with open(self.primary.data / "postgresql.conf", "a") as conf:
            # A test's data: no durability asked of the disk, few connections.
            conf.write("fsync = off\nsynchronous_commit = off\nmax_connections = 40\n")
        self.primary.start()
        _as_postgres(
            str(BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.replica.data),
            "-R",
            "-X",
            "stream",
            # The primary is idle: a spread checkpoint would wait minutes for nothing.
            "--checkpoint=fast",
        )
        self.replica.start()

    def caught_up(self, timeout: float = 20.0) -> None:
        """Wait until the replica has replayed everything the primary has written."""
        target = self.primary.execute("SELECT pg_current_wal_lsn()")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replayed = self.replica.execute(
                f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            )[0][0]
            if replayed:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the replica did not replay up to {target} in {timeout} s")

    def close(self) -> None:
        for server in (self.replica, self.primary):
            with contextlib.suppress(RuntimeError):  # a test stopped it already
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
