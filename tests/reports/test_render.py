"""The annual report rendered as XLSX and PDF, read back with openpyxl and pypdf.

The report comes from ``annual_report`` over a hand-made year shaped like
Boston 2009-10 (70 participants: 10 met standards, 39 other, 21 active), split
over two tracks and three consulting teachers so every table has several rows.
Every expected figure is written out by hand below.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import openpyxl
import pypdf
import pytest

from app.reports.annual import CaseRecord, SchoolYear, annual_report
from app.reports.render import _chart, to_pdf, to_xlsx
from app.reports.survey import SurveyRecord

MET = "met_standards"
OTHER = "retirements_resignations_other"
LABELS = {
    MET: "Met standards",
    OTHER: "Retirements, resignations, other",
    "active": "Remain active",
}
SCALE = ("strongly_agree", "agree", "disagree", "strongly_disagree")
SA, A, D, SD = SCALE
YEAR = SchoolYear("2009-2010", date(2009, 7, 1), date(2010, 6, 30))
DISTRICT = "Springfield"
#: Starts with "=": openpyxl would store it as a formula unless told it is text.
FORMULA_COMMENT = '=HYPERLINK("http://example.com","click")'
COMMENTS = ("The best help I have received.", FORMULA_COMMENT)


def cases() -> list[CaseRecord]:
    """Every case starts 2009-09-01 and ends (or is counted to) 2010-06-30: 302 days each,
    302 / 30.44 = 9.92 months, so every average is 9.9."""
    start, end = date(2009, 9, 1), date(2010, 6, 30)
    rows = [  # (count, track, teacher, group): 10 met, 39 other, 21 active = 70
        (10, "peer_assistance", "Kim", MET),
        (30, "peer_assistance", "Kim", OTHER),
        (11, "peer_assistance", "Lee", None),
        (9, "peer_review", "Lee", OTHER),
        (10, "peer_review", None, None),
    ]
    records: list[CaseRecord] = []
    for count, track, teacher, group in rows:
        ended = None if group is None else end
        records += [
            CaseRecord(len(records) + i, track, "assistance", teacher, start, ended, group)
            for i in range(count)
        ]
    return records


def survey() -> SurveyRecord:
    """Three answers of 70 sent: 3 / 70 = 0.0429 -> 0.043."""
    return SurveyRecord(
        key="participant",
        title="Participant questionnaire",
        sent=70,
        statements=(("value", "I value the program & its <staff>."), ("access", "Access")),
        scale=SCALE,
        agree_keys=frozenset({SA, A}),
        answers=({"value": SA, "access": SA}, {"value": SA, "access": D}, {"value": A}),
        comments=COMMENTS,
    )


def report(with_survey: bool = True) -> dict[str, Any]:
    return annual_report(YEAR, cases(), (MET, OTHER), survey() if with_survey else None)


def workbook(data: dict[str, Any], district: str = DISTRICT) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(to_xlsx(data, district=district, group_labels=LABELS)))


def rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(values_only=True))


def pdf_text(data: dict[str, Any], district: str = DISTRICT) -> str:
    """All pages' text with runs of whitespace as one space, so wrapped lines still match."""
    reader = pypdf.PdfReader(io.BytesIO(to_pdf(data, district=district, group_labels=LABELS)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_summary_holds_the_figures_as_numbers() -> None:
    sheet = workbook(report())["Summary"]
    figures = {row[0]: row[1] for row in rows(sheet) if row[0] is not None}

    assert figures["District"] == DISTRICT
    assert figures["School year"] == "2009-2010"
    assert figures["Participants"] == 70  # an int: the string "70" would not compare equal
    assert figures["Average months of support"] == 9.9
    assert (figures["Met standards"], figures["Retirements, resignations, other"]) == (10, 39)
    assert figures["Remain active"] == 21
    assert [cell.font.b for cell in sheet[1]] == [True, True]


def test_xlsx_by_track_has_one_row_per_track_with_its_groups() -> None:
    sheet = workbook(report())["By track"]

    assert rows(sheet) == [
        ("Track", "Participants", "Met standards", "Retirements, resignations, other",
         "Remain active", "Average months of support"),
        ("peer_assistance", 51, 10, 30, 11, 9.9),  # 10 + 30 + 11
        ("peer_review", 19, 0, 9, 10, 9.9),  # 9 + 10
    ]  # fmt: skip
    assert all(cell.font.b for cell in sheet[1])
    assert not any(cell.font.b for cell in sheet[2])
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["B"].width


def test_xlsx_by_consulting_teacher() -> None:
    assert rows(workbook(report())["By consulting teacher"]) == [
        ("Consulting teacher", "Participants", "Average months of support"),
        ("Kim", 40, 9.9),  # 10 met + 30 other
        ("Lee", 20, 9.9),  # 11 + 9
        ("unassigned", 10, 9.9),
    ]


def test_xlsx_survey_sheet_has_a_row_of_counts_per_statement_and_the_comments() -> None:
    sheet = workbook(report())["Survey"]
    table = rows(sheet)

    assert table[:4] == [
        ("Survey", "Participant questionnaire", None, None, None, None, None),
        ("Sent", 70, None, None, None, None, None),
        ("Responses", 3, None, None, None, None, None),
        ("Response rate", 0.043, None, None, None, None, None),
    ]
    header = table.index(
        ("Key", "Statement", "Strongly agree", "Agree", "Disagree", "Strongly disagree",
         "Agree or better")
    )  # fmt: skip
    assert table[header + 1 : header + 3] == [
        ("value", "I value the program & its <staff>.", 2, 1, 0, 0, 3),
        ("access", "Access", 1, 0, 1, 0, 1),  # the third answer left it blank
    ]
    comments = table.index(("Comments", None, None, None, None, None, None))
    # Typed text that would run as a formula is kept as text, with a leading quote.
    assert [row[0] for row in table[comments + 1 :]] == [COMMENTS[0], "'" + FORMULA_COMMENT]


def test_xlsx_stores_text_starting_with_equals_as_text_not_a_formula() -> None:
    sheet = workbook(report(), district="=1+1")["Survey"]
    cell = next(c for (c,) in sheet.iter_rows(max_col=1) if c.value == "'" + FORMULA_COMMENT)
    assert cell.data_type == "s"
    district = workbook(report(), district="=1+1")["Summary"]["B2"]
    assert (district.value, district.data_type) == ("'=1+1", "s")


def test_xlsx_without_a_survey_has_no_survey_sheet() -> None:
    assert workbook(report(with_survey=False)).sheetnames == [
        "Summary",
        "By track",
        "By consulting teacher",
    ]
    assert workbook(report()).sheetnames[-1] == "Survey"


def test_xlsx_drops_control_characters_the_format_cannot_store() -> None:
    data = report()
    data["survey"]["comments"] = ["Pasted\x0bfrom Word\x00"]
    sheet = workbook(data, district="North\x01 District")
    assert sheet["Summary"]["B2"].value == "North District"
    assert rows(sheet["Survey"])[-1][0] == "Pastedfrom Word"


def test_xlsx_of_a_year_without_participants() -> None:
    book = workbook(annual_report(YEAR, [], (MET, OTHER), None))
    figures = {row[0]: row[1] for row in rows(book["Summary"]) if row[0] is not None}
    assert (figures["Participants"], figures["Remain active"]) == (0, 0)
    assert len(rows(book["By track"])) == 1  # the header alone


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_has_the_title_figures_labels_and_tables() -> None:
    text = pdf_text(report())

    assert "Springfield: annual program report 2009-2010" in text
    assert re.search(r"Participants\s+70\b", text)
    assert re.search(r"Met standards\s+10\b", text)
    assert re.search(r"Retirements, resignations, other\s+39\b", text)
    assert re.search(r"Remain active\s+21\b", text)
    assert re.search(r"Average months of support\s+9\.9\b", text)
    assert re.search(r"peer_assistance\s+51\s+10\s+30\s+11\s+9\.9", text)
    assert re.search(r"Kim\s+40\s+9\.9", text)
    assert re.search(r"unassigned\s+10\s+9\.9", text)


def test_pdf_has_the_survey_when_there_is_one() -> None:
    text = pdf_text(report())
    assert "Participant questionnaire" in text
    assert "Responses: 3 (response rate 4.3%)" in text
    assert re.search(r"I value the program & its <staff>\.\s+2\s+1\s+0\s+0\s+3", text)
    assert FORMULA_COMMENT in text

    without = pdf_text(report(with_survey=False))
    assert "Participant questionnaire" not in without
    assert "Agree or better" not in without


@pytest.mark.parametrize("district", ["Smith & Sons <K-12>", "<b>Bold</b> & <unclosed"])
def test_pdf_escapes_district_text(district: str) -> None:
    data = report()
    data["by_consulting_teacher"]["O'Brien <&> Co"] = data["by_consulting_teacher"].pop("Kim")
    text = pdf_text(data, district=district)
    assert f"{district}: annual program report 2009-2010" in text
    assert "O'Brien <&> Co" in text


def test_pdf_of_a_year_without_participants_renders() -> None:
    text = pdf_text(annual_report(YEAR, [], (MET, OTHER), None))
    assert re.search(r"Participants\s+0\b", text)


def test_pdf_is_the_same_bytes_for_the_same_report() -> None:
    first = to_pdf(report(), district=DISTRICT, group_labels=LABELS)
    assert to_pdf(report(), district=DISTRICT, group_labels=LABELS) == first


def test_chart_has_a_bar_per_outcome_group_on_a_whole_number_axis() -> None:
    (chart,) = _chart(report(), LABELS).contents
    assert chart.data == [[10, 39, 21]]
    assert chart.categoryAxis.categoryNames == [
        "Met standards",
        "Retirements, resignations, other",
        "Remain active",
    ]
    # The tallest bar (39) fits under the top: 5 steps of ceil(39 / 5) = 8 reach 40.
    assert (chart.valueAxis.valueMin, chart.valueAxis.valueMax) == (0, 40)
    assert chart.valueAxis.valueStep == 8

    (empty,) = _chart(annual_report(YEAR, [], (MET, OTHER), None), LABELS).contents
    assert (empty.valueAxis.valueMax, empty.valueAxis.valueStep) == (1, 1)
