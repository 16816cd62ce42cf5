"""Native spreadsheet charts for the annual report's workbook, drawn over its own cells.

``app.reports.render.to_xlsx`` lays the figures out as tables; this module finds those
tables by their headings and adds an openpyxl chart over each, so the chart in Excel or
LibreOffice is the committee's own data: change a cell and the chart follows. One measure
per chart (teachers, or months of support), as on the report page. It also says, under the
summary's figures, how many open imported cases the year left out and why.

Like the renderer it reads nothing but the workbook and the report dict.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from app.exports.cells import append_row

__all__ = ["add_charts"]

#: Chart size in centimetres: wide enough for a district's longest group names.
_WIDTH, _ROW_HEIGHT, _MIN_HEIGHT = 18.0, 1.1, 7.5


def _heading_row(sheet: Worksheet, text: str) -> int | None:
    """The row whose first cell is ``text`` (a table's heading row), if any."""
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if cell.value == text:
            return cell.row
    return None


def _rows_below(sheet: Worksheet, heading: int) -> int:
    """How many rows the table under ``heading`` has (it ends at the first empty row)."""
    count = 0
    for (cell,) in sheet.iter_rows(min_row=heading + 1, min_col=1, max_col=1):
        if cell.value in (None, ""):
            break
        count += 1
    return count


def _bar_chart(title: str, measure: str, category: str, rows: int) -> BarChart:
    """Horizontal bars: category names read across, however long, and one value axis."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.y_axis.title = measure
    chart.x_axis.title = category
    # Excel hides an axis whose ``delete`` is left unset by openpyxl 3.1.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.majorGridlines = None
    chart.legend = None
    chart.width, chart.height = _WIDTH, max(_MIN_HEIGHT, 3 + rows * _ROW_HEIGHT)
    return chart


def _column_chart(sheet: Worksheet, heading: int, rows: int, column: int, chart: BarChart):
    """Plot one column of the table under ``heading`` against its first column."""
    chart.add_data(
        Reference(sheet, min_col=column, min_row=heading, max_row=heading + rows),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=heading + 1, max_row=heading + rows))
    return chart


def _summary(sheet: Worksheet) -> None:
    heading = _heading_row(sheet, "Outcome group")
    rows = _rows_below(sheet, heading) if heading else 0
    if not rows:
        return
    chart = _bar_chart("Teachers by outcome", "Teachers", "Outcome group", rows)
    sheet.add_chart(_column_chart(sheet, heading, rows, 2, chart), "D2")


def _by_track(sheet: Worksheet) -> None:
    rows = _rows_below(sheet, 1)
    if not rows:
        return
    last = sheet.max_column
    anchor = sheet.cell(row=1, column=last + 2).coordinate
    teachers = _bar_chart("Teachers by track", "Teachers", "Track", rows)
    sheet.add_chart(_column_chart(sheet, 1, rows, 2, teachers), anchor)
    months = _bar_chart("Average months of support by track", "Months", "Track", rows)
    below = sheet.cell(row=2 + int(teachers.height * 2), column=last + 2).coordinate
    sheet.add_chart(_column_chart(sheet, 1, rows, last, months), below)


def _survey(sheet: Worksheet) -> None:
    """Answers per statement, stacked: one series per answer, over the statement texts."""
    heading = _heading_row(sheet, "Key")
    rows = _rows_below(sheet, heading) if heading else 0
    if not rows:
        return
    answers = [
        cell.column
        for cell in sheet[heading][2:]
        if cell.value not in (None, "", "Agree or better")
    ]
    chart = _bar_chart("Answers per statement", "Teachers", "Statement", rows)
    chart.grouping, chart.overlap = "stacked", 100
    chart.legend = _legend_below()
    chart.add_data(
        Reference(
            sheet, min_col=answers[0], max_col=answers[-1], min_row=heading, max_row=heading + rows
        ),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=2, min_row=heading + 1, max_row=heading + rows))
    sheet.add_chart(chart, sheet.cell(row=heading + rows + 2, column=2).coordinate)


def _legend_below() -> Legend:
    legend = Legend()
    legend.position = "b"
    return legend


def _left_out_note(sheet: Worksheet, left_out: Mapping[str, Any], note: str | None) -> None:
    """Say under the figures how many open imported cases the year did not count, and why."""
    if not note:
        return
    append_row(sheet, [])
    append_row(sheet, ["Open imported cases left out", left_out["count"]])
    append_row(sheet, [note])
    sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")


def add_charts(data: bytes, report: Mapping[str, Any], *, note: str | None = None) -> bytes:
    """``data`` (the renderer's workbook) with a chart over each of its tables: outcome
    groups on "Summary", teachers and months by track on "By track", answers per statement
    on "Survey" when the year had one."""
    book = load_workbook(io.BytesIO(data))
    _summary(book["Summary"])
    _left_out_note(book["Summary"], report.get("open_imports_left_out") or {}, note)
    _by_track(book["By track"])
    if "Survey" in book.sheetnames:
        _survey(book["Survey"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
