"""The cursor the app's PostgreSQL connections use: psycopg's, with a lazy description.

psycopg builds ``cursor.description`` afresh on every access, a ``Column`` per result
column, each reading the result's name, type and sizes from libpq (a known cost:
psycopg/psycopg#446, #457). SQLAlchemy reads the description once per statement but, for a
statement it compiled before, looks only at whether there is one: the columns come from
its cached result metadata. Building them was 3-4% of every page's time (both cursors
alternating in one process, ``docs/scaling.md``). Here the description is a sequence whose
length is the result's, and whose columns are psycopg's own, built the first time anyone
reads them; ``tests/test_cursor.py`` holds it to psycopg's. Every pooled psycopg
connection gets it as it is made (``_use_lazy_description``), whatever its engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg._column import Column
from sqlalchemy import event
from sqlalchemy.pool import Pool

#: Result statuses that carry columns even when there are none (psycopg's own rule).
_WITH_COLUMNS = (
    pq.ExecStatus.TUPLES_OK,
    pq.ExecStatus.SINGLE_TUPLE,
    pq.ExecStatus.TUPLES_CHUNK,
)


class _Source:
    """What ``Column`` reads of a cursor, fixed at the result the description belongs to,
    so the columns stay that result's if the cursor has moved on when they are read."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: psycopg.Cursor, result: pq.abc.PGresult) -> None:
        self.pgresult = result
        self._encoding = cursor._encoding
        self.adapters = cursor.adapters


class Description(Sequence):
    """A result's columns, built when first read."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor, result: pq.abc.PGresult) -> None:
        self._cursor = cursor
        self._result = result
        self._columns: list[Column] | None = None

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index: Any) -> Any:
        return self.columns[index]

    @property
    def columns(self) -> list[Column]:
        if self._columns is None:
            source = _Source(self._cursor, self._result)
            self._columns = [Column(source, i) for i in range(self._result.nfields)]
        return self._columns

    def __repr__(self) -> str:
        return repr(self.columns)


class Cursor(psycopg.Cursor):
    """psycopg's client-side cursor; only ``description`` differs (see the module)."""

    __slots__ = ()

    @property
    def description(self) -> Description | None:
        result = self.pgresult
        if result is not None and (result.nfields or result.status in _WITH_COLUMNS):
            return Description(self, result)
        return None


@event.listens_for(Pool, "connect")
def _use_lazy_description(dbapi_connection: Any, record: Any) -> None:
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = Cursor
