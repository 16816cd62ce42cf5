"""Rows for ``COPY``: buffered per table, written in foreign-key order, ids given up front.

Ids are allocated here (from each table's current maximum) so a row can point at its
parent before either is written; the sequences are moved past them at the end, so the
app's own inserts afterwards never collide. Python-side column defaults of the models
(``default=True``, ``default=list``, ``default=utcnow``) are applied here, because
``COPY`` only knows the database's defaults and the models keep theirs in Python.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
from sqlalchemy import JSON, Integer, Table

from bench.db import Urls

#: Rows held before everything buffered is written (bounds memory for any district size).
FLUSH_EVERY = 100_000
_NOW = datetime.now(UTC).replace(microsecond=0)


class Writer:
    """``add(table, **values)`` buffers a row and returns its id; ``commit`` writes them."""

    def __init__(self, target: Urls) -> None:
        from app.extensions import db

        self._conn = psycopg.connect(target.owner_dsn)
        self.checked = _skip_row_triggers(self._conn)
        self._order = [t for t in db.metadata.sorted_tables]
        self._tables: dict[str, Table] = {t.name: t for t in self._order}
        self._buffers: dict[str, list[tuple]] = {}
        self._next_id: dict[str, int] = {}
        self._plans: dict[str, list] = {}
        self._buffered = 0
        self.written: dict[str, int] = {}

    def add(self, table: str, **values) -> int | str:
        plan = self._plans.get(table) or self._plan(table)
        if "id" not in values and table in self._next_id:
            values["id"] = self._next_id[table]
            self._next_id[table] += 1
        row = []
        for name, default, is_json, nullable in plan:
            value = values.get(name, default)
            if value is None:
                if not nullable:
                    raise ValueError(f"{table}.{name} needs a value")
            elif is_json:
                value = json.dumps(value)
            row.append(value)
        self._buffers.setdefault(table, []).append(row)
        self._buffered += 1
        if self._buffered >= FLUSH_EVERY:
            self.flush()
        return values.get("id")

    def _plan(self, table: str) -> list:
        """For each column: its name, the models' default, whether JSON, whether nullable."""
        columns = self._tables[table].columns
        plan = []
        for column in columns:
            default = None
            if column.default is not None and column.default.is_scalar:
                default = column.default.arg
            elif column.default is not None and column.default.is_callable:
                default = column.default.arg(None)
                default = _NOW if isinstance(default, datetime) else default
            nullable = column.nullable or (column.primary_key and column.autoincrement is True)
            plan.append((column.name, default, isinstance(column.type, JSON), nullable))
        if "id" in columns and isinstance(columns["id"].type, Integer):
            current = self._conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()
            self._next_id[table] = current[0] + 1
        self._plans[table] = plan
        return plan

    def maker(self, table: str, names: tuple[str, ...]):
        """A fast ``add`` for the largest tables: values by position in ``names``, no checks
        (JSON values already as text); the other columns take the models' defaults."""
        plan = self._plans.get(table) or self._plan(table)
        order = [p[0] for p in plan]
        template = [json.dumps(p[1]) if p[2] and p[1] is not None else p[1] for p in plan]
        positions = [order.index(name) for name in names]
        id_at = order.index("id")
        buffer = self._buffers.setdefault(table, [])
        next_id = self._next_id

        def make(*values) -> int:
            row = template.copy()
            for at, value in zip(positions, values, strict=True):
                row[at] = value
            row_id = row[id_at] = next_id[table]
            next_id[table] = row_id + 1
            buffer.append(row)
            self._buffered += 1
            if self._buffered >= FLUSH_EVERY:
                self.flush()
            return row_id

        return make

    def flush(self) -> None:
        """Write every buffered row, parents before children."""
        with self._conn.cursor() as cursor:
            for table in self._order:
                rows = self._buffers.get(table.name)
                if not rows:
                    continue
                names = ", ".join(p[0] for p in self._plans[table.name])
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                self.written[table.name] = self.written.get(table.name, 0) + len(rows)
                rows.clear()  # in place: makers hold on to their buffer
        self._buffered = 0

    def commit(self) -> None:
        self.flush()
        self._conn.commit()

    def finish(self) -> None:
        """Move the sequences past the ids given out, and refresh the planner's statistics."""
        self.commit()
        for table in self._next_id:
            self._conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        self._conn.commit()
        self._conn.autocommit = True
        self._conn.execute("ANALYZE")
        self._conn.autocommit = False

    def close(self) -> None:
        self._conn.close()


def _skip_row_triggers(conn: psycopg.Connection) -> bool:
    """Load without per-row foreign-key triggers when the owner may (a superuser may).

    The rows are consistent by construction (``tests/bench`` checks it), and the
    per-row checks would triple the load time. Returns whether the checks stay on.
    """
    try:
        conn.execute("SET session_replication_role = replica")
        return False
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return True
