"""A pooled PostgreSQL connection is checked before it is lent, mostly without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: a round trip per
request, and several per job, to find the rare connection the server closed (a restart,
a failover, ``pg_terminate_backend``, a pooler's idle timeout). A server that closes a
connection says so on its socket (an error message, then end of file), so an idle
connection whose socket has something to read is dead, and one that has nothing is
alive, unless the way to the server was cut without a word (a firewall forgetting an
idle flow): only a connection idle longer than ``PING_AFTER_IDLE_SECONDS`` is pinged.
A dead one is replaced by the pool (``DisconnectionError``), so no request draws it.
"""

from __future__ import annotations

import select
import time

import psycopg
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

#: An idle connection older than this is pinged for real before it is lent.
PING_AFTER_IDLE_SECONDS = 30.0
_RETURNED_AT = "parley_returned_at"


@event.listens_for(Pool, "checkin")
def _note_return(dbapi_connection, record) -> None:
    record.info[_RETURNED_AT] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _check_before_lending(dbapi_connection, record, proxy) -> None:
    """Refuse a connection the server has closed (the pool then opens a fresh one)."""
    if not isinstance(dbapi_connection, psycopg.Connection):
        return  # SQLite: a file, nothing to lose on the way
    returned_at = record.info.get(_RETURNED_AT)
    if returned_at is None:
        return  # opened for this checkout
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError) as exc:
        raise DisconnectionError(f"the connection's socket is gone: {exc}") from exc
    if readable:
        # Nothing is owed to an idle connection: the server is saying goodbye.
        raise DisconnectionError("the server closed the connection")
    if time.monotonic() - returned_at > PING_AFTER_IDLE_SECONDS:
        try:
            dbapi_connection.execute("SELECT 1")
            # A commit, not a rollback: psycopg forgets its prepared statements on one.
            dbapi_connection.commit()
        except psycopg.Error as exc:
            raise DisconnectionError(f"the connection did not answer: {exc}") from exc
