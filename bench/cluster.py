"""``make cluster``: Parley as it runs on more than one machine, on this machine's loopback.

What it starts, each a real server (``make cluster-stop`` stops them all again):

- the **primary** is the machine's own PostgreSQL (127.0.0.1:5432); the database
  ``parley_cluster`` is made, migrated and seeded with the demo districts the first time;
- a **streaming replica** of it, a second PostgreSQL cluster (``15/parley_replica`` on
  127.0.0.1:5433) made with Debian's ``pg_createcluster`` and ``pg_basebackup -R`` at every
  start, with a replication slot while it runs;
  the reports, the network and exports read from it;
- **a PgBouncer per web instance** (127.0.0.1:6432 and :6433, as one per web machine) in
  transaction mode in front of the primary, resetting each server connection after every
  transaction (``DISCARD ALL``); the workers and the scheduler use the first;
- **two gunicorn instances** (127.0.0.1:5001 and :5002, two workers each), each through its
  own pooler, with the replica as their second bind;
- **one RQ worker per queue** (``mail``, ``exports``, ``default``) and **the scheduler**
  (the outbox sweep and the reminders), on Redis database 13.

The primary must accept replication connections from loopback: a ``host replication all
127.0.0.1/32 trust`` line is added to its ``pg_hba.conf`` when missing, and the
configuration reloaded. Logs and process ids are kept in ``$TMPDIR/parley-cluster``.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RUN = Path(tempfile.gettempdir()) / "parley-cluster"
VERSION = "15"
BIN = Path(f"/usr/lib/postgresql/{VERSION}/bin")
REPLICA_CLUSTER = "parley_replica"
PRIMARY_PORT = int(os.environ.get("CLUSTER_PRIMARY_PORT", "5432"))
REPLICA_PORT = int(os.environ.get("CLUSTER_REPLICA_PORT", "5433"))
POOLER_PORT = int(os.environ.get("CLUSTER_POOLER_PORT", "6432"))
#: One PgBouncer per web instance, as one per web machine would be; the workers and the
#: scheduler use the first.
POOLER_PORTS = (POOLER_PORT, POOLER_PORT + 1)
WEB_PORTS = (5001, 5002)
DATABASE = "parley_cluster"
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/13")
QUEUES = ("mail", "exports", "default")
APP_ROLE, PLATFORM_ROLE = "parley_app", "parley_platform"
SECRET = "cluster-secret-key-cluster-secret-key-0123456789"


def _say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def _fail(message: str) -> None:
    sys.exit(f"cluster: {message}")


def _as_postgres(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        _fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done


def url(port: int, user: str, database: str = DATABASE) -> str:
    return f"postgresql://{user}@127.0.0.1:{port}/{database}"


def _primary(database: str = "postgres") -> psycopg.Connection:
    try:
        return psycopg.connect(
            f"host=127.0.0.1 port={PRIMARY_PORT} user=postgres dbname={database}",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        _fail(
            f"the primary PostgreSQL on 127.0.0.1:{PRIMARY_PORT} does not answer ({exc}); "
            "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )


def allow_replication() -> None:
    """Let the replica stream from the primary over loopback (an idempotent hba line)."""
    with _primary() as conn:
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        line = "host replication all 127.0.0.1/32 trust"
        if line not in hba.read_text():
            with hba.open("a") as out:
                out.write(f"\n# make cluster: the streaming replica on loopback\n{line}\n")
            conn.execute("SELECT pg_reload_conf()")
            _say(f"allowed replication from loopback in {hba}")


def _flask(*args: str, env: dict) -> None:
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(
        [str(flask), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        _fail(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def database() -> None:
    """The cluster's database on the primary: made, migrated, and seeded once."""
    with _primary() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
            _say(f"created the database {DATABASE}")
    owner = url(PRIMARY_PORT, "postgres")
    env = {**os.environ, **settings(), "DATABASE_URL": owner, "PLATFORM_DATABASE_URL": owner}
    # Migrations and the seed run as the owner, straight on the primary, jobs inline.
    for key in (
        "REPLICA_DATABASE_URL",
        "PLATFORM_REPLICA_DATABASE_URL",
        "DATABASE_TRANSACTION_POOLER",
        "REDIS_URL",
    ):
        env.pop(key)
    _flask("db", "upgrade", env=env)
    with _primary(DATABASE) as conn:
        # Through the pooler no start-up options reach the server: the statement timeout
        # the app would send goes on its roles instead.
        for role in (APP_ROLE, PLATFORM_ROLE):
            conn.execute(f"ALTER ROLE {role} IN DATABASE {DATABASE} SET statement_timeout = '30s'")
        seeded = conn.execute("SELECT count(*) FROM tenants WHERE slug = 'boston'").fetchone()[0]
    if not seeded:
        _flask("seed-demo", env=env)
        _say("seeded the demo districts")


def _replica_data() -> Path:
    return Path(f"/var/lib/postgresql/{VERSION}/{REPLICA_CLUSTER}")


def _clusters() -> dict[str, str]:
    done = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    found = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == VERSION:
            found[parts[1]] = parts[3]
    return found


def _drop_slot() -> None:
    with _primary() as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (REPLICA_CLUSTER,),
        )


def replica() -> None:
    """The streaming replica, made from a fresh base backup whenever it is not running.

    While it runs, a replication slot keeps on the primary the WAL it has not received yet
    (a test run writes a great deal); when it stops, the slot goes, so a stopped replica
    holds nothing back on the primary, and the next start copies the primary again.
    """
    clusters = _clusters()
    if REPLICA_CLUSTER not in clusters:
        subprocess.run(
            ["pg_createcluster", VERSION, REPLICA_CLUSTER, "--port", str(REPLICA_PORT)],
            check=True,
            capture_output=True,
        )
    data = _replica_data()
    running = _clusters().get(REPLICA_CLUSTER, "").startswith("online")
    if not running:
        _drop_slot()
        # The base backup goes into the cluster's own folder, emptied, owned by postgres.
        data.mkdir(mode=0o700, exist_ok=True)
        postgres = pwd.getpwnam("postgres")
        os.chown(data, postgres.pw_uid, postgres.pw_gid)
        for child in data.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        _as_postgres(
            str(BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres"),
            *("-D", str(data), "-R", "-X", "stream", "--checkpoint=fast"),
            *("--create-slot", "--slot", REPLICA_CLUSTER),
        )
        _say(f"made the replica {VERSION}/{REPLICA_CLUSTER} from a base backup")
    # The replica admits whom the primary admits (Debian keeps each cluster's hba apart).
    with _primary() as conn:
        primary_hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
    shutil.copyfile(primary_hba, Path(f"/etc/postgresql/{VERSION}/{REPLICA_CLUSTER}/pg_hba.conf"))
    action = "reload" if _clusters().get(REPLICA_CLUSTER, "").startswith("online") else "start"
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", VERSION, REPLICA_CLUSTER, action]
    subprocess.run(command, check=True)
    _say(f"replica on 127.0.0.1:{REPLICA_PORT}")


def pooler_folder(port: int) -> Path:
    return RUN / f"pgbouncer-{port}"


def pooler() -> None:
    """A PgBouncer per web instance, in transaction mode, in front of the primary."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        _fail("pgbouncer is missing: make chromium installs Debian's (apt-get install pgbouncer)")
    for port in POOLER_PORTS:
        folder = pooler_folder(port)
        folder.mkdir(parents=True, exist_ok=True)
        if alive(folder / "pgbouncer.pid"):
            continue
        (folder / "users.txt").write_text(
            "".join(f'"{user}" ""\n' for user in (APP_ROLE, PLATFORM_ROLE, "postgres"))
        )
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={PRIMARY_PORT}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 10\nmax_client_conn = 500\n"
            "admin_users = postgres\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            "server_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n"
            f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        )
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            for path in (folder, *folder.iterdir()):
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
        _as_postgres(binary, "-d", str(folder / "pgbouncer.ini"))
        _say(f"PgBouncer on 127.0.0.1:{port} (transaction mode)")


def settings(pooler_port: int = POOLER_PORT) -> dict[str, str]:
    """What every process of the cluster runs with (through the PgBouncer on ``pooler_port``)."""
    return {
        "PARLEY_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url(pooler_port, APP_ROLE),
        "PLATFORM_DATABASE_URL": url(pooler_port, PLATFORM_ROLE),
        "REPLICA_DATABASE_URL": url(REPLICA_PORT, APP_ROLE),
        "PLATFORM_REPLICA_DATABASE_URL": url(REPLICA_PORT, PLATFORM_ROLE),
        "DATABASE_TRANSACTION_POOLER": "1",
        "REDIS_URL": REDIS_URL,
        "MAIL_SUPPRESS_SEND": "1",
        "MAIL_OUTBOX_DIR": str(RUN / "mail"),
        "UPLOAD_ROOT": str(RUN / "uploads"),
    }


def _pids() -> dict[str, int]:
    path = RUN / "pids.json"
    return json.loads(path.read_text()) if path.exists() else {}


def alive(pid_or_file) -> bool:
    if isinstance(pid_or_file, Path):
        if not pid_or_file.exists():
            return False
        pid_or_file = int(pid_or_file.read_text().strip() or 0)
    try:
        os.kill(pid_or_file, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # A process that has ended but was not reaped yet (its parent, make, is gone) is a zombie.
    stat = Path(f"/proc/{pid_or_file}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def processes() -> None:
    """The web instances (each through its own PgBouncer), a worker per queue and the
    scheduler, each with its log."""
    bin_dir = Path(sys.executable).parent
    shared = {**os.environ, **settings()}
    commands = {
        **{
            f"web-{port}": (
                [
                    str(bin_dir / "gunicorn"),
                    *("--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"),
                ],
                {**os.environ, **settings(pooler_port)},
            )
            for port, pooler_port in zip(WEB_PORTS, POOLER_PORTS, strict=True)
        },
        **{
            f"worker-{name}": (
                [str(bin_dir / "flask"), "--app", "wsgi", "worker", "--queue", name],
                shared,
            )
            for name in QUEUES
        },
        "scheduler": ([str(bin_dir / "flask"), "--app", "wsgi", "scheduler"], shared),
    }
    pids = {name: pid for name, pid in _pids().items() if alive(pid)}
    for name, (command, env) in commands.items():
        if name in pids:
            continue
        log = (RUN / f"{name}.log").open("ab")
        started = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        pids[name] = started.pid
    (RUN / "pids.json").write_text(json.dumps(pids, indent=2))
    for port in WEB_PORTS:
        _wait_for(f"http://127.0.0.1:{port}/healthz", f"web-{port}")


def _wait_for(url: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                body = json.loads(answer.read())
                _say(f"{name} on {url.rsplit('/', 1)[0]}: {body}")
                return
        except OSError:
            time.sleep(0.3)
    _fail(f"{name} did not answer {url} within {timeout:g} s; see {RUN / (name + '.log')}")


def check_up() -> None:
    """Every part answers (``python -m bench --cluster`` measures a running cluster)."""
    pids = _pids()
    names = [f"web-{port}" for port in WEB_PORTS]
    down = [name for name in names if name not in pids or not alive(pids[name])]
    down += [
        f"PgBouncer on {port}"
        for port in POOLER_PORTS
        if not alive(pooler_folder(port) / "pgbouncer.pid")
    ]
    if not _clusters().get(REPLICA_CLUSTER, "").startswith("online"):
        down.append("the replica")
    if down:
        _fail(f"{', '.join(down)} not running: start the cluster first (make cluster)")


def start() -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    allow_replication()
    database()
    replica()
    pooler()
    processes()
    _say(
        f"up. Open http://127.0.0.1:{WEB_PORTS[0]}/ or :{WEB_PORTS[1]}/ (the demo logins "
        f"are those make run prints); logs in {RUN}; make cluster-stop stops it all."
    )


def stop() -> None:
    pids = _pids()
    for name, pid in pids.items():
        if alive(pid):
            os.killpg(pid, signal.SIGTERM)
            _say(f"stopping {name} ({pid})")
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for name, pid in pids.items():
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)
            _say(f"{name} did not stop within 30 s: killed")
    (RUN / "pids.json").unlink(missing_ok=True)
    for port in POOLER_PORTS:
        bouncer = pooler_folder(port) / "pgbouncer.pid"
        if alive(bouncer):
            os.kill(int(bouncer.read_text().strip()), signal.SIGTERM)
            _say(f"stopped the PgBouncer on {port}")
    if _clusters().get(REPLICA_CLUSTER, "").startswith("online"):
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", VERSION, REPLICA_CLUSTER, "stop"]
        subprocess.run(command, check=True)
        _say(f"stopped the replica {VERSION}/{REPLICA_CLUSTER}")
    _drop_slot()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("action", choices=("start", "stop"))
    args = parser.parse_args(argv)
    if args.action == "start":
        start()
    else:
        stop()


if __name__ == "__main__":
    main()
