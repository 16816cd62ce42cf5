"""The app's cursor describes a result as psycopg does, only later."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from app.core.cursor import Cursor, Description
from app.extensions import db

_QUERY = "SELECT 1::int AS n, 'x'::varchar(12) AS word, 2.5::numeric(6, 2) AS amount, now() AS at"


def _as_tuples(description) -> list[tuple]:
    return [tuple(column) for column in description]


def test_the_description_is_psycopgs_own(app):
    with app.app_context():
        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        plain = conn.execute(_QUERY).description
        with Cursor(conn) as cursor:
            cursor.execute(_QUERY)
            lazy = cursor.description
            assert isinstance(lazy, Description)
            assert len(lazy) == 4
            # Read after the cursor moved on: still the first result's columns.
            cursor.execute("SELECT 'other' AS other")
            assert _as_tuples(lazy) == _as_tuples(plain)
            assert [c.name for c in lazy] == ["n", "word", "amount", "at"]
            assert _as_tuples(lazy[1:3]) == _as_tuples(plain[1:3])
            cursor.execute("SET application_name = 'probe'")
            assert cursor.description is None
            cursor.execute("SELECT")  # a result with no columns is still a result
            assert cursor.description is not None and len(cursor.description) == 0


def test_the_apps_connections_use_it(app):
    with app.app_context():
        rows = db.session.execute(text("SELECT 7 AS seven"))
        assert isinstance(rows.cursor, Cursor)
        assert rows.keys() == ["seven"] and rows.scalar() == 7
