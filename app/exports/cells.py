"""Spreadsheet cells that stay text when a spreadsheet program opens them: the one writer
of every CSV and XLSX row Parley hands out.

Names, schools and comments come from people: a cell beginning with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) would run as a formula in
Excel or Sheets when a coordinator opens the export. Such text gets a leading
``'``, which spreadsheets show as text and do not evaluate. Numbers stay numbers.

Every module writes rows through :func:`csv_writer` or :func:`append_row`, never with
``csv.writer`` or a worksheet's ``append`` itself (``tests/test_export_cells.py``
checks), so no export can forget the rule.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["FORMULA_STARTS", "Sheet", "append_row", "csv_writer", "safe_cell", "safe_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters that XLSX (XML 1.0) cannot store; tab and newlines are kept.
_XLSX_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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


class Sheet(Protocol):
    """An openpyxl worksheet, ordinary or write-only: anything rows are appended to."""

    def append(self, iterable: Any) -> None: ...


def _xlsx_cell(value: Any) -> Any:
    # Cleaned before the check, so a control character cannot hide a formula behind it.
    if isinstance(value, str):
        return safe_cell(_XLSX_UNSTORABLE.sub("", value))
    return value


def append_row(sheet: Sheet, values: Iterable[Any]) -> None:
    """Add a row of values to ``sheet`` (write-only sheets too), every text a string cell.

    openpyxl stores any text starting with ``=`` as a live formula; made safe first, no
    text does, so each one is a string cell (``data_type == "s"``) and numbers stay numbers.
    """
    sheet.append([_xlsx_cell(value) for value in values])
