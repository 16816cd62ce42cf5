"""Exports open in the tools people use and hold every figure and row; links expire."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import openpyxl
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.export import ExportJob
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.test_annual_report import HISTORY
from tests.test_imports import HEADER, _post


def _export(app, d, user, kind, year=""):
    browser = Browser(app, d, user)
    response = browser.post("/exports/", "/exports/", {"kind": kind, "year": year})
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.execute(select(ExportJob).order_by(ExportJob.id.desc())).scalars().first()
        assert row.status == "ready", row.error
        export_id = row.id
    download = browser.get(f"/exports/{export_id}/download")
    assert download.status_code == 200
    return export_id, download.data


def test_the_annual_report_pdf_and_xlsx_hold_the_figures(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    _, pdf = _export(app, pap, pap.people["coordinator"], "annual_pdf", "2009-2010")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "2009-2010" in text and "Participants" in text and "3" in text
    assert "Teachers who met standards" in text
    _, xlsx = _export(app, pap, pap.people["coordinator"], "annual_xlsx", "2009-2010")
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    values = [cell for row in book["Summary"].iter_rows(values_only=True) for cell in row]
    assert 3 in values and 13.5 in values


def test_the_case_list_xlsx_holds_every_case(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    _, xlsx = _export(app, pap, pap.people["coordinator"], "cases_xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx))["Cases"].iter_rows(values_only=True))
    assert rows[0][:4] == ("id", "teacher", "track", "state")
    assert sorted(r[1] for r in rows[1:]) == ["Ann", "Ben", "Cy", "Di", "Ed"]


def test_the_full_archive_holds_every_table_of_the_district_only(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    district("other", "toledo")
    _post(app, pap, HEADER + HISTORY)
    _, data = _export(app, pap, pap.people["admin"], "tenant_archive")
    archive = zipfile.ZipFile(io.BytesIO(data))
    import json

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["tables"]["cases"] == 5
    assert manifest["district"] == "Bostonpap Schools"
    users = [json.loads(line) for line in archive.read("tables/users.jsonl").splitlines()]
    assert users and {u["tenant_id"] for u in users} == {pap.tenant.id}
    assert not any(u["email"].endswith("@other.org") for u in users)
    assert all("password_hash" not in u for u in users)
    names = archive.namelist()
    assert "tables/api_tokens.jsonl" not in names
    assert "tables/survey_invitations.jsonl" not in names


def test_a_download_link_expires_and_is_only_for_its_requester(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    export_id, _ = _export(app, pap, pap.people["coordinator"], "cases_csv")
    admin = Browser(app, pap, pap.people["admin"])
    assert admin.get(f"/exports/{export_id}/download").status_code == 404
    with app.app_context(), tenant_scope(pap.tenant.id):
        db.session.get(ExportJob, export_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    coordinator = Browser(app, pap, pap.people["coordinator"])
    assert coordinator.get(f"/exports/{export_id}/download").status_code == 404


def test_only_a_program_admin_exports_everything(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    browser = Browser(app, pap, pap.people["coordinator"])
    response = browser.post("/exports/", "/exports/", {"kind": "tenant_archive"})
    assert response.status_code == 422
    assert "Only a program admin exports everything." in response.text


def test_visit_logs_and_survey_results_export_as_csv(app, district, make_user, make_case):
    import csv as csvlib
    from datetime import date as day

    from app.core import uow
    from app.models.case import Case
    from app.models.user import User
    from app.services import support

    pap = district("bostonpap", "boston_pap_2007")
    teacher = make_user(pap.tenant, "teacher", email="t@bps.org")
    # Enrolled before the visits: none may be dated before support began.
    case = make_case(pap.tenant, teacher, "peer_assistance", enrolled_on=day(2025, 12, 1))
    with app.app_context(), tenant_scope(pap.tenant.id):
        row = db.session.get(Case, case.id)
        row.ct_id = pap.people["ct"].id
        ct = db.session.get(User, pap.people["ct"].id)
        for n in (3, 2):
            support.log_visit(
                row, ct, support.VisitInput("observation", day(2026, 1, n), 40, notes=f"visit {n}")
            )
        uow.commit()
    _, data = _export(app, pap, pap.people["coordinator"], "visits_csv")
    rows = list(csvlib.reader(io.StringIO(data.decode())))
    assert rows[0][:5] == ["case_id", "teacher", "author", "date", "type"]
    assert [r[3] for r in rows[1:]] == ["2026-01-02", "2026-01-03"]
    _, results = _export(app, pap, pap.people["coordinator"], "survey_csv")
    assert results.decode().splitlines()[0] == "survey,year,sent,responses,statement,answer,count"


def _chart_ranges(sheet) -> list[tuple[str, list[str], list[str], str]]:
    """Each chart of a sheet as (title, its series' value ranges, its category ranges, kind)."""
    found = []
    for chart in sheet._charts:
        title = "".join(run.t for p in chart.title.tx.rich.p for run in p.r or [])
        values = [s.val.numRef.f for s in chart.series]
        categories = [(s.cat.strRef or s.cat.numRef).f for s in chart.series]
        found.append((title, values, categories, chart.type))
    return found


def test_the_annual_report_xlsx_has_a_native_chart_over_each_table(app, district):
    from tests.test_surveys import ANSWERS

    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    answers = (
        ANSWERS
        + "R1,2010-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
        + "R2,2010-06-02,disagree,agree,agree,agree,agree,strongly_disagree,\n"
    )
    imported = Api(app, pap, pap.people["coordinator"]).post(
        "/imports/survey-responses",
        data={
            "file": (io.BytesIO(answers.encode()), "answers.csv"),
            "survey": "teacher_questionnaire",
            "year": "2009-2010",
            "sent": "3",
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200, imported.json
    _, xlsx = _export(app, pap, pap.people["coordinator"], "annual_xlsx", "2009-2010")
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    summary = book["Summary"]
    assert [c.value for c in summary["A"][6:10]] == [
        "Outcome group",
        "Teachers who met standards",
        "Retirements/Resignations/Other",
        "Active",
    ]
    assert _chart_ranges(summary) == [
        ("Teachers by outcome", ["'Summary'!$B$8:$B$10"], ["'Summary'!$A$8:$A$10"], "bar")
    ]
    by_track = book["By track"]
    # The track by its name, not its key; participants in B, average months in F (one
    # track: openpyxl writes a one-cell range as that cell).
    assert [c.value for c in by_track[2]][:2] == ["Peer Assistance", 3]
    assert by_track["F1"].value == "Average months of support"
    assert _chart_ranges(by_track) == [
        ("Teachers by track", ["'By track'!$B$2"], ["'By track'!$A$2"], "bar"),
        (
            "Average months of support by track",
            ["'By track'!$F$2"],
            ["'By track'!$A$2"],
            "bar",
        ),
    ]
    survey = book["Survey"]
    assert [c.value for c in survey[6]][:6] == [
        "Key",
        "Statement",
        "Strongly agree",
        "Agree",
        "Disagree",
        "Strongly disagree",
    ]
    ((title, values, categories, kind),) = _chart_ranges(survey)
    assert title == "Answers per statement" and kind == "bar"
    assert values == [f"'Survey'!${col}$7:${col}$12" for col in "CDEF"]
    assert categories == ["'Survey'!$B$7:$B$12"] * 4
    assert survey._charts[0].grouping == "stacked"
