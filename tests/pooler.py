"""PgBouncer in transaction mode in front of the test's PostgreSQL, started for a test.

Debian's ``pgbouncer`` runs as ``postgres`` (it refuses root) from a folder of its own,
on a loopback port nobody else uses, with one server connection per database and role, so
every transaction of a role goes over the same server connection, one after another.
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
from pathlib import Path

import psycopg

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Pooler:
    """A running PgBouncer; ``url(database, user)`` goes through it; ``close()`` stops it."""

    def __init__(self, upstream_port: int, users: list[str], pool_size: int = 1) -> None:
        if not os.path.exists(PGBOUNCER):
            raise RuntimeError("pgbouncer is not installed (make test installs Debian's)")
        self.root = Path(tempfile.mkdtemp(prefix="parley-pgbouncer-"))
        self.port = _free_port()
        (self.root / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={upstream_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.root / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            "admin_users = postgres\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            # As in ``make cluster``: nothing a client set for its session outlives its
            # transaction on the server connection.
            "server_reset_query = DISCARD ALL\n"
            "server_reset_query_always = 1\n"
            f"logfile = {self.root / 'pgbouncer.log'}\n"
            f"pidfile = {self.root / 'pgbouncer.pid'}\n"
        )
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, PGBOUNCER, "-d", str(self.root / "pgbouncer.ini")],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbouncer did not start: {done.stdout}{done.stderr}")
        self._wait()

    def _wait(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen on {self.port}: {self.log()}")

    def url(self, database: str, user: str) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def servers(self) -> list[dict]:
        """``SHOW SERVERS`` of the admin console: the server connections it holds."""
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} dbname=pgbouncer user=postgres", autocommit=True
        ) as conn:
            cursor = conn.execute("SHOW SERVERS")
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        pid = self.root / "pgbouncer.pid"
        if pid.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid.read_text().strip()), 15)
        shutil.rmtree(self.root, ignore_errors=True)
