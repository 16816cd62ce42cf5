"""Reads that can be a little late go to the streaming replica, when there is one.

The annual report with its trend and charts, the network's pages and API, and exports
read a great deal and write nothing; on a deployment with a replica
(``REPLICA_DATABASE_URL``, and ``PLATFORM_REPLICA_DATABASE_URL`` for work across
districts) they run there, so the primary keeps its time for the people acting on cases.

Inside :func:`replica_reads` the session's next transaction begins on the replica, as the
same role, under the same tenant scope (the policies are replicated with the tables). A
transaction that has written stays where it is: what it wrote is read back from the
primary, never from a copy that may not have it yet. The replica is a hot standby, so
nothing can write there in any case.

If the replica does not answer, the reads go to the primary, the process stops asking the
replica for :data:`RETRY_AFTER` seconds, and ``/healthz`` says so. When the replica trails
the primary by more than ``REPLICA_LAG_NOTICE_SECONDS``, the page says how old its figures
are (:func:`lag_note`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.extensions import db

#: The bind keys of the replica's engines (``SQLALCHEMY_BINDS``, set by the settings).
REPLICA_BIND = "replica"
PLATFORM_REPLICA_BIND = "platform_replica"
#: Seconds a process leaves a replica that did not answer before it asks it again.
RETRY_AFTER = 30.0
#: The session asks for the replica while this key is set (``TenantSession.get_bind``).
WANTS_REPLICA = "parley_replica_reads"
_READ = "parley_replica_read"

#: How far the replica trails: nothing when it has replayed all it received, else the
#: age of the last transaction it replayed.
LAG_SQL = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)

_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


@dataclass(frozen=True)
class ReplicaRead:
    """What one request's replica reads found: lag in seconds, or that it fell back."""

    lag_seconds: float = 0.0
    fell_back: bool = False


def configured() -> bool:
    return REPLICA_BIND in db.engines


def _engine_key(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _is_down(engine) -> bool:
    with _down_lock:
        return _down_until.get(_engine_key(engine), 0.0) > time.monotonic()


def mark(engine, down: bool) -> None:
    with _down_lock:
        if down:
            _down_until[_engine_key(engine)] = time.monotonic() + RETRY_AFTER
        else:
            _down_until.pop(_engine_key(engine), None)


def engine_for(all_tenants: bool):
    """The replica engine a new transaction of this scope reads on, or None."""
    key = PLATFORM_REPLICA_BIND if all_tenants else REPLICA_BIND
    engine = db.engines.get(key)
    if engine is None or _is_down(engine):
        return None
    return engine


def is_replica(engine) -> bool:
    return any(db.engines.get(key) is engine for key in (REPLICA_BIND, PLATFORM_REPLICA_BIND))


@contextmanager
def replica_reads() -> Iterator[None]:
    """Run the reads inside on the replica (or on the primary, when it cannot)."""
    session = db.session()
    if not configured() or session.info.get(WANTS_REPLICA) or session.has_written():
        yield
        return
    if session.in_transaction():
        # Only reads so far (checked above): end them here, so the next begins on the
        # replica. Loaded objects reload on first use.
        session.commit()
    session.info[WANTS_REPLICA] = True
    try:
        _begin_on_replica(session)
        yield
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(WANTS_REPLICA, None)
    held = session.get_bind()
    if is_replica(held) and session.in_transaction():
        # A read-only transaction on a standby: committing it ends it (and keeps what
        # psycopg prepared); what follows begins on the primary again.
        session.commit()


def _begin_on_replica(session) -> None:
    """Open the transaction on the replica now, so a replica that is down is found here
    and the reads go to the primary instead of failing the request."""
    from app.tenants.context import current_scope

    engine = engine_for(current_scope().all_tenants)
    if engine is None:
        _remember(ReplicaRead(fell_back=True))
        session.info.pop(WANTS_REPLICA, None)
        return
    try:
        lag = float(session.execute(LAG_SQL).scalar_one())
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        session.info.pop(WANTS_REPLICA, None)
        mark(engine, down=True)
        current_app.logger.warning("replica unavailable, reading from the primary: %s", exc)
        _remember(ReplicaRead(fell_back=True))
        return
    mark(engine, down=False)
    _remember(ReplicaRead(lag_seconds=lag))


def _remember(read: ReplicaRead) -> None:
    if has_app_context():
        g.setdefault(_READ, read)


def lag_note() -> str | None:
    """The sentence a page that read the replica shows when its figures are late."""
    if not has_app_context():
        return None
    read: ReplicaRead | None = g.get(_READ)
    if read is None or read.fell_back:
        return None
    if read.lag_seconds <= current_app.config["REPLICA_LAG_NOTICE_SECONDS"]:
        return None
    as_of = datetime.now(UTC) - timedelta(seconds=read.lag_seconds)
    return (
        f"These figures are from the reporting copy of the data, last brought up to date at "
        f"{as_of:%H:%M:%S} UTC ({_span(read.lag_seconds)} ago); changes since then are not "
        "in them yet."
    )


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} seconds"
    if seconds < 7200:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds / 3600:.1f} hours"
