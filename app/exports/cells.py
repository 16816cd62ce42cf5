"""Spreadsheet cells that stay text when a spreadsheet program opens them.

Names, schools and comments come from people: a cell beginning with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) would run as a formula in
Excel or Sheets when a coordinator opens the export. Such text gets a leading
``'``, which spreadsheets show as text and do not evaluate. Numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


class SafeCsvWriter:
    """``csv.writer`` whose rows are made safe first: the one way exports write CSV."""

    def __init__(self, stream) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream) -> SafeCsvWriter:
    return SafeCsvWriter(stream)
