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
