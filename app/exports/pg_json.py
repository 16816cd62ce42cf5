"""A table's rows as JSON Lines that PostgreSQL writes itself, for the district archive.

Serialising millions of rows in Python (a row object, a dict, ``json.dumps`` with a
fallback per date) took 16 to 28 times as long as PostgreSQL takes to hand the same rows
over. So the archive asks PostgreSQL for the finished lines: ``row_to_json`` over the
chosen columns, streamed with ``COPY ... TO STDOUT``, whose bytes go into the ZIP as they
are. This module only builds that statement; the caller runs it on its own connection,
under its tenant's row-level security.

Each column type maps to an expression whose JSON is the value the archive writer's own
encoder (:mod:`app.exports.archive`) gives it: datetimes as ISO 8601 in UTC, decimals as
their exact text, floats with a ``.0`` when whole, JSON columns as stored. ``json.loads``
of either line gives the same object with its keys in the same order; only whitespace
between tokens differs, and a datetime's fraction of a second loses its trailing zeros
(``.12`` where Python writes ``.120000``: the same instant, which
``datetime.fromisoformat`` reads either way; writing Python's form, two ``to_char`` per
value, cost a fifth of PostgreSQL's time for the whole archive). A column of any other
type is refused when the statement is built, never written in a form nobody checked.

The statement uses CSV mode with a delimiter and a quote character (``\\x01``, ``\\x02``)
that JSON text from PostgreSQL never holds (it escapes every control character), so
no line is ever quoted or escaped: each row is its JSON and a newline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnCollection,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import UTCDateTime

__all__ = ["SETUP", "copy_statement"]

#: Run once in the transaction before the statements: PostgreSQL writes a ``timestamptz``
#: in the session's time zone, and the archive's times are UTC (``+00:00``). Local to the
#: transaction, so the connection goes back to the pool as it came.
SETUP = "SELECT set_config('TimeZone', 'UTC', true)"

#: The options after ``TO STDOUT``; see the module's docstring.
_COPY_OPTIONS = "(FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
#: Literal values are written into the statement (COPY takes no parameters); a dialect
#: with named parameters leaves a ``%`` in them alone.
_DIALECT = postgresql.dialect(paramstyle="named")


def _decimal(column: ColumnElement) -> ColumnElement:
    # The archive writes a Decimal as its text, so 12.50 keeps its scale.
    return cast(column, Text)


def _float(column: ColumnElement) -> ColumnElement:
    # PostgreSQL writes a whole float8 as 3 where Python writes 3.0; the value is the same
    # but a reader in Python would get an int, so whole values get their ".0" back.
    whole = and_(column == func.trunc(column), func.abs(column) < 1e16)
    with_point = cast(cast(func.trunc(column), Numeric), Text) + ".0"
    return case((whole, cast(with_point, JSON)), else_=func.to_json(column))


def _json(column: ColumnElement) -> ColumnElement:
    # Stored JSON is written as stored. A line break would split the line; in valid JSON it
    # can only be whitespace between tokens (a string cannot hold one unescaped), so it
    # becomes a space, keeping every key in its place (jsonb would sort them).
    text = cast(column, Text)
    line_breaks = func.concat(func.chr(10), func.chr(13))
    broken = or_(func.strpos(text, func.chr(10)) > 0, func.strpos(text, func.chr(13)) > 0)
    return case((broken, cast(func.translate(text, line_breaks, "  "), JSON)), else_=column)


def _as_is(column: ColumnElement) -> ColumnElement:
    return column


#: Column type -> the expression PostgreSQL turns into the archive's JSON for it. Checked
#: in order, so a subclass (Float is a Numeric, Text a String) comes before its base.
_FORMS: tuple[tuple[type, Callable[[ColumnElement], ColumnElement]], ...] = (
    (UTCDateTime, _as_is),
    (Float, _float),
    (Numeric, _decimal),
    (JSON, _json),
    (Integer, _as_is),
    (Boolean, _as_is),
    (String, _as_is),
    (Date, _as_is),
    # PostgreSQL writes a uuid as its hyphenated text, as str() does on the portable path.
    (Uuid, _as_is),
)


def _form(table: Table, key: str) -> ColumnElement:
    column = table.c[key]
    for kind, form in _FORMS:
        if isinstance(column.type, kind):
            return form(column).label(key)
    raise TypeError(f"{table.name}.{key}: no JSON form for a {column.type!r} column")


def copy_statement(
    table: Table,
    keys: Sequence[str],
    where: ColumnElement[bool],
    *,
    after_id: int | None,
    limit: int,
    withheld: Sequence[str] = (),
    shown_when: Callable[[ColumnCollection], ColumnElement[bool]] | None = None,
) -> str:
    """``COPY ... TO STDOUT`` of up to ``limit`` rows of ``table`` matching ``where`` with
    an ``id`` above ``after_id``, in ``id`` order, each as one line of JSON whose keys are
    ``keys`` in that order.

    The ``withheld`` keys are written only in rows where ``shown_when``, given the
    selected row's columns, holds; other rows leave them out altogether (a null would say
    something else). Raises ``TypeError`` for a column type with no JSON form, and
    ``ValueError`` without ``id`` in ``keys`` or with ``withheld`` but no ``shown_when``.
    """
    if "id" not in keys:
        raise ValueError(f"{table.name}: the lines are read in batches by id, so keep id")
    if withheld and shown_when is None:
        raise ValueError(f"{table.name}: say when the withheld {list(withheld)} are shown")
    query = select(*(_form(table, key) for key in keys)).where(where)
    if after_id is not None:
        query = query.where(table.c.id > after_id)
    rows = query.order_by(table.c.id).limit(limit).subquery("r")
    line: ColumnElement = func.row_to_json(rows.table_valued())
    outer = select(line).select_from(rows)
    if withheld and shown_when is not None:
        # The same row without those keys, by name, for the rows that must not show them.
        kept = [rows.c[key] for key in keys if key not in withheld]
        without = select(*kept).correlate(rows).lateral("s")
        line = case((shown_when(rows.c), line), else_=func.row_to_json(without.table_valued()))
        outer = select(line).select_from(rows.join(without, true()))
    sql = outer.order_by(rows.c.id).compile(
        dialect=_DIALECT, compile_kwargs={"literal_binds": True}
    )
    return f"COPY ({sql}) TO STDOUT {_COPY_OPTIONS}"
