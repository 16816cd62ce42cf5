"""Bounds every layer checks the same way: the edge, the schemas and the document."""

from __future__ import annotations

#: The largest id an ``integer`` primary key holds: a larger one names no row.
MAX_ID = 2**31 - 1
