"""The annual program report as a spreadsheet and as a printable PDF.

Committees paste the figures into their own documents (the spreadsheet) and
hand the report to the school board (the PDF), so both formats render the dict
built by ``app.reports.annual.annual_report`` and nothing else: no database, no
request, no clock. Whatever the service layer can show as JSON it can offer
for download, with the same numbers.

Text in the report comes from the district (its name, track and consulting
teacher names, survey statements, participants' comments) and is never trusted
as markup: it is escaped for reportlab's Paragraph mini-language, stored in the
spreadsheet through the one safe writer (``app.exports.cells``: a comment starting
with "=" is stored as text behind a "'", never as a formula), and stripped of the
control characters that neither format accepts.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.exports.cells import append_row

__all__ = ["to_pdf", "to_xlsx"]

#: Control characters that XLSX (XML 1.0) cannot store; tab and newlines are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Widest a spreadsheet column gets, in characters: longer text wraps instead.
_MAX_WIDTH = 60
_BOLD = Font(bold=True)
_MONTHS_FORMAT = "0.0"
_RATE_FORMAT = "0.0%"
_AVERAGE = "Average months of support"


def _clean(text: object) -> str:
    """The text without control characters, which would break either file format."""
    return _CONTROL.sub("", str(text))


def _label(key: str, group_labels: Mapping[str, str]) -> str:
    """A group's configured label; its key when unlabelled (a group since retired)."""
    return group_labels.get(key, key)


def _scale_heading(key: str) -> str:
    """'strongly_agree' as 'Strongly agree': scale keys are identifiers, not headings."""
    return key.replace("_", " ").capitalize()


def _scale_keys(statements: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every scale key in the order the counts give them (all statements share one scale)."""
    keys: list[str] = []
    for statement in statements:
        keys.extend(key for key in statement["counts"] if key not in keys)
    return keys


# --- XLSX -----------------------------------------------------------------------------------


def _append(sheet: Worksheet, values: Iterable[Any], *, bold: bool = False) -> None:
    """Add a row through the one safe writer: text that would start a formula stays text."""
    append_row(sheet, values)
    if bold:
        for cell in sheet[sheet.max_row]:
            cell.font = _BOLD


def _format_column(sheet: Worksheet, column: int, number_format: str, first_row: int) -> None:
    """Give the numbers of one column, from ``first_row`` down, a display format."""
    for (cell,) in sheet.iter_rows(min_row=first_row, min_col=column, max_col=column):
        if isinstance(cell.value, int | float):
            cell.number_format = number_format


def _fit_columns(sheet: Worksheet) -> None:
    """Widen each column to its longest value (capped), wrapping the text that is longer."""
    for index, column in enumerate(sheet.iter_cols(), start=1):
        lengths = [len(str(cell.value)) for cell in column if cell.value is not None]
        width = min(max(lengths, default=8) + 2, _MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = width
        for cell in column:
            if cell.value is not None and len(str(cell.value)) > _MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _summary_sheet(
    sheet: Worksheet, report: Mapping[str, Any], district: str, labels: Mapping[str, str]
) -> None:
    """The headline figures first, then one row per outcome group, as the committee words it."""
    sheet.title = "Summary"
    _append(sheet, ["Figure", "Value"], bold=True)
    _append(sheet, ["District", district])
    _append(sheet, ["School year", report["year"]])
    _append(sheet, ["Participants", report["participants"]])
    _append(sheet, [_AVERAGE, report["average_months_of_support"]])
    sheet.cell(row=sheet.max_row, column=2).number_format = _MONTHS_FORMAT
    _append(sheet, [])
    _append(sheet, ["Outcome group", "Participants"], bold=True)
    for key, count in report["outcome_groups"].items():
        _append(sheet, [_label(key, labels), count])


def _track_sheet(sheet: Worksheet, report: Mapping[str, Any], labels: Mapping[str, str]) -> None:
    """One row per track with its own outcome groups, in the report's group order."""
    groups = list(report["outcome_groups"])
    header = ["Track", "Participants", *(_label(key, labels) for key in groups), _AVERAGE]
    _append(sheet, header, bold=True)
    for track, row in report["by_track"].items():
        counts = [row["outcome_groups"].get(key) for key in groups]
        _append(sheet, [track, row["participants"], *counts, row["average_months_of_support"]])
    _format_column(sheet, len(header), _MONTHS_FORMAT, first_row=2)
    sheet.freeze_panes = "A2"


def _teacher_sheet(sheet: Worksheet, report: Mapping[str, Any]) -> None:
    """One row per consulting teacher, so a program can see how support was shared."""
    _append(sheet, ["Consulting teacher", "Participants", _AVERAGE], bold=True)
    for name, row in report["by_consulting_teacher"].items():
        _append(sheet, [name, row["participants"], row["average_months_of_support"]])
    _format_column(sheet, 3, _MONTHS_FORMAT, first_row=2)
    sheet.freeze_panes = "A2"


def _survey_sheet(sheet: Worksheet, survey: Mapping[str, Any]) -> None:
    """The response figures, one row of counts per statement, then the comments verbatim."""
    _append(sheet, ["Survey", survey["title"]], bold=True)
    _append(sheet, ["Sent", survey["sent"]])
    _append(sheet, ["Responses", survey["responses"]])
    _append(sheet, ["Response rate", survey["response_rate"]])
    sheet.cell(row=sheet.max_row, column=2).number_format = _RATE_FORMAT
    _append(sheet, [])
    scale = _scale_keys(survey["statements"])
    headings = [_scale_heading(key) for key in scale]
    _append(sheet, ["Key", "Statement", *headings, "Agree or better"], bold=True)
    for statement in survey["statements"]:
        counts = [statement["counts"].get(key, 0) for key in scale]
        _append(
            sheet,
            [statement["key"], statement["text"], *counts, statement["agree_or_better"]],
        )
    _append(sheet, [])
    _append(sheet, ["Comments"], bold=True)
    for comment in survey["comments"]:
        _append(sheet, [comment])


def to_xlsx(report: Mapping[str, Any], *, district: str, group_labels: Mapping[str, str]) -> bytes:
    """The report as an .xlsx workbook whose figures stay numbers a committee can sum.

    Sheets: "Summary", "By track", "By consulting teacher" and, only when the
    year had a survey, "Survey" (an absent sheet says "no survey" more plainly
    than an empty one). ``group_labels`` maps outcome-group keys to the
    district's wording; a key without a label is shown as is.
    """
    workbook = Workbook()
    _summary_sheet(workbook.active, report, district, group_labels)
    _track_sheet(workbook.create_sheet("By track"), report, group_labels)
    _teacher_sheet(workbook.create_sheet("By consulting teacher"), report)
    if report["survey"] is not None:
        _survey_sheet(workbook.create_sheet("Survey"), report["survey"])
    for sheet in workbook.worksheets:
        _fit_columns(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------

_STYLES = getSampleStyleSheet()
_CELL = ParagraphStyle("ReportCell", parent=_STYLES["BodyText"], fontSize=9, leading=11)
_HEAD = ParagraphStyle("ReportHead", parent=_CELL, fontName="Helvetica-Bold")
_TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]
)
#: The printable width of a letter page with the template's one-inch margins.
_WIDTH = letter[0] - 2 * inch


def _text(text: object, style: ParagraphStyle = _CELL) -> Paragraph:
    """District text as a Paragraph: escaped, so "<" or "&" in a name is shown, not parsed."""
    return Paragraph(escape(_clean(text)), style)


def _months(value: float) -> str:
    return f"{value:.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], first: float) -> Table:
    """A gridded table whose first column is ``first`` wide and the others share the rest.

    Headers and first-column names are Paragraphs so long ones wrap rather
    than run off the page; numbers stay plain strings, right-aligned.
    """
    width = (_WIDTH - first) / max(len(header) - 1, 1)
    body = [[_text(row[0]), *(str(value) for value in row[1:])] for row in rows]
    table = Table(
        [[_text(title, _HEAD) for title in header], *body],
        colWidths=[first, *([width] * (len(header) - 1))],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(_TABLE_STYLE)
    return table


def _figures(report: Mapping[str, Any], labels: Mapping[str, str]) -> Table:
    rows: list[list[Any]] = [["Participants", report["participants"]]]
    rows += [[_label(key, labels), count] for key, count in report["outcome_groups"].items()]
    rows.append([_AVERAGE, _months(report["average_months_of_support"])])
    return _table(["Figure", "Value"], rows, first=3.5 * inch)


def _chart(report: Mapping[str, Any], labels: Mapping[str, str]) -> Drawing:
    """Bars of the outcome groups on a whole-number axis (nobody is half a participant)."""
    counts = list(report["outcome_groups"].values())
    top = max([*counts, 1])
    step = max(1, math.ceil(top / 5))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 70, _WIDTH - 60, 140
    chart.data = [counts]
    chart.categoryAxis.categoryNames = [_clean(_label(k, labels)) for k in report["outcome_groups"]]
    chart.categoryAxis.labels.angle = 20
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = step * math.ceil(top / step)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = "%d"
    chart.bars[0].fillColor = colors.HexColor("#4a7ab5")
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 7
    drawing = Drawing(_WIDTH, 230)
    drawing.add(chart)
    return drawing


def _breakdowns(report: Mapping[str, Any], labels: Mapping[str, str]) -> list[Flowable]:
    """The by-track and by-consulting-teacher tables, each under its heading."""
    groups = list(report["outcome_groups"])
    tracks = [
        [
            track,
            row["participants"],
            *(row["outcome_groups"].get(key, "") for key in groups),
            _months(row["average_months_of_support"]),
        ]
        for track, row in report["by_track"].items()
    ]
    teachers = [
        [name, row["participants"], _months(row["average_months_of_support"])]
        for name, row in report["by_consulting_teacher"].items()
    ]
    track_header = ["Track", "Participants", *(_label(key, labels) for key in groups), _AVERAGE]
    return [
        Paragraph("By track", _STYLES["Heading2"]),
        _table(track_header, tracks, first=1.6 * inch),
        Paragraph("By consulting teacher", _STYLES["Heading2"]),
        _table(["Consulting teacher", "Participants", _AVERAGE], teachers, first=2.5 * inch),
    ]


def _survey(survey: Mapping[str, Any]) -> list[Flowable]:
    """The survey's response figures, its statement table and its comments, escaped."""
    scale = _scale_keys(survey["statements"])
    rows = [
        [item["text"], *(item["counts"].get(key, 0) for key in scale), item["agree_or_better"]]
        for item in survey["statements"]
    ]
    header = ["Statement", *(_scale_heading(key) for key in scale), "Agree or better"]
    summary = (
        f"Sent: {survey['sent']}. Responses: {survey['responses']} "
        f"(response rate {survey['response_rate']:.1%})."
    )
    flowables: list[Flowable] = [
        _text(survey["title"], _STYLES["Heading2"]),
        Paragraph(summary, _STYLES["BodyText"]),
        _table(header, rows, first=2.5 * inch),
    ]
    if survey["comments"]:
        flowables.append(Paragraph("Comments", _STYLES["Heading3"]))
        flowables += [_text(comment, _STYLES["BodyText"]) for comment in survey["comments"]]
    return flowables


def to_pdf(
    report: Mapping[str, Any],
    *,
    district: str,
    group_labels: Mapping[str, str],
    note: str | None = None,
) -> bytes:
    """The report as a PDF a committee can hand to the school board as it is.

    A title, the headline figures (with ``note``, what they leave out), a bar
    chart of the outcome groups, the by-track and by-consulting-teacher tables
    and, when the year had one, the survey. Only reportlab draws it (the chart
    too), so the PDF needs no browser or chart service. ``invariant`` keeps
    timestamps and document ids out of the file: the same report always gives
    the same bytes.
    """
    title = f"{_clean(district)}: annual program report {report['year']}"
    story: list[Flowable] = [
        _text(title, _STYLES["Title"]),
        Paragraph("Figures", _STYLES["Heading2"]),
        _figures(report, group_labels),
        *([_text(note, _STYLES["BodyText"])] if note else []),
        Spacer(1, 0.2 * inch),
        _chart(report, group_labels),
        *_breakdowns(report, group_labels),
    ]
    if report["survey"] is not None:
        story += _survey(report["survey"])
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=letter, title=title, author=_clean(district), invariant=1
    )
    document.build(story)
    return buffer.getvalue()
