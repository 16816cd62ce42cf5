"""Exports keep people's text as text: no cell becomes a formula in a spreadsheet."""

from __future__ import annotations

import csv
import io

from app.exports.cells import csv_writer, safe_cell


def test_text_that_would_start_a_formula_is_quoted():
    for dangerous in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(dangerous) == "'" + dangerous


def test_ordinary_text_and_numbers_are_unchanged():
    assert safe_cell("Ms. O'Neil") == "Ms. O'Neil"
    assert safe_cell(-3) == -3
    assert safe_cell(2.5) == 2.5
    assert safe_cell(None) is None


def test_the_csv_writer_quotes_every_dangerous_cell():
    buffer = io.StringIO()
    csv_writer(buffer).writerow(["=cmd|' /C calc'!A0", "Lincoln Elementary", 7])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ["'=cmd|' /C calc'!A0", "Lincoln Elementary", "7"]


def test_a_spreadsheet_row_keeps_typed_formulas_as_string_cells():
    from openpyxl import Workbook, load_workbook

    from app.exports.cells import append_row

    for write_only in (False, True):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("Rows") if write_only else book.active
        append_row(sheet, ['=HYPERLINK("http://x","y")', "Pasted\x0b=1", "Ms. O'Neil", -3])
        buffer = io.BytesIO()
        book.save(buffer)
        cells = next(load_workbook(buffer).worksheets[0].iter_rows(max_row=1))
        assert [(c.value, c.data_type) for c in cells] == [
            ('\'=HYPERLINK("http://x","y")', "s"),
            ("Pasted=1", "s"),
            ("Ms. O'Neil", "s"),
            (-3, "n"),
        ]
