"""How many characters a stored string column holds, by its table and column name.

Input is checked against these before it reaches the database: a longer value would make
PostgreSQL refuse the whole request without naming the field. The schemas ask by name
(``"cases.school"``), so they depend on the stored shape, not on the model classes.
"""

from __future__ import annotations

import app.models  # noqa: F401  (every table in the metadata before one is named)
from app.extensions import db


def of(column: str) -> int:
    """The length of ``column``, ``"table.column"`` (``String(200)``: 200). An unknown name
    or a column without a length raises at once: the schemas ask as they are defined."""
    table, name = column.split(".")
    length = getattr(db.metadata.tables[table].c[name].type, "length", None)
    if length is None:
        raise ValueError(f"{column} has no length")
    return length
