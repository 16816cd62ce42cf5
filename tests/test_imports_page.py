"""The imports page: a file is previewed (its rows, or every error by line and column), and
only a previewed, error-free file is imported, as previewed, once, by whoever previewed it."""

from __future__ import annotations

import codecs
import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.import_upload import ImportUpload
from app.models.survey import SurveyResponse, SurveyRound
from app.services import imports
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, errors_beside
from tests.formwalk import trace
from tests.test_imports import GOOD, HEADER
from tests.test_surveys import ANSWERS

PAGE = "/admin/imports"
ANSWER = "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"


@pytest.fixture
def pap(district):
    return district("bostonpap", "boston_pap_2007")


@pytest.fixture
def admin(app, pap) -> Browser:
    return Browser(app, pap, pap.people["admin"])


def _check(browser: Browser, data: bytes, kind: str = "cases", name: str = "cases.csv", **extra):
    form = {"kind": kind, "file": (io.BytesIO(data), name), **extra}
    return browser.post(PAGE, PAGE, form, content_type="multipart/form-data")


def _answers(browser: Browser, data: bytes, **extra):
    fields = {"survey": "teacher_questionnaire", "year": "2008-2009", "sent": "70", **extra}
    return _check(browser, data, "survey_responses", "answers.csv", **fields)


def _token(page: str) -> str:
    match = re.search(r'name="upload" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="upload" value="([^"]+)"', page
    )
    assert match, "the page offers no import of the preview"
    return match.group(1)


def _apply(browser: Browser, token: str):
    return browser.post(PAGE, f"{PAGE}/apply", {"upload": token})


def _count(app, d, model) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def _error_rows(page: str) -> list[tuple[str, str, str]]:
    """The error table as (line, column, problem), as a person reads it."""
    start = page.index('id="import-errors-heading"')
    body = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", body, re.S)
    return [tuple(unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row) for row in rows]


class _Unchanged:
    """Every row of every table and every stored file, before and after (``trace``)."""

    def __init__(self, app, owner_engine) -> None:
        self.engine, self.root = owner_engine, Path(app.config["UPLOAD_ROOT"])
        with owner_engine.connect() as conn:
            self.before = trace(conn, self.root)

    def changes(self) -> list[str]:
        with self.engine.connect() as conn:
            return self.before.changes(trace(conn, self.root), conn)


def test_the_page_explains_the_columns_of_each_import(admin):
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "Columns of a history file" in html and "Columns of a survey-answers file" in html
    assert ",<wbr>".join(imports.CASE_COLUMNS) in html
    survey_header = "response_id,<wbr>submitted_on,<wbr>values_program,<wbr>adequate_access"
    assert survey_header in html
    assert "Met standards" in html  # outcomes by the names people read
    assert 'name="upload"' not in html  # nothing previewed, nothing to import


def test_a_good_history_file_is_previewed_then_imported_as_previewed(app, pap, admin):
    preview = _check(admin, (HEADER + GOOD).encode())
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert "Preview of cases.csv: nothing is written yet" in page
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert facts["Rows in the file"] == "3"
    assert (facts["New cases"], facts["Updated cases"], facts["New people"]) == ("3", "0", "4")
    assert "B-001" in page and "Ann Able" in page and "Met standards" in page
    assert _count(app, pap, Case) == 0, "a preview writes no case"

    done = _apply(admin, _token(page))
    assert done.status_code == 302
    after = admin.client.get(done.location).text
    assert "Imported 3 new and 0 updated cases, and added 4 people." in after
    assert _count(app, pap, Case) == 3
    assert _count(app, pap, ImportUpload) == 0, "an applied preview is consumed"
    with app.app_context(), tenant_scope(pap.tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "import.cases")
        ).scalar_one()
        assert event.after["created"] == 3 and event.after["new_people"] == 4
        assert event.after["file"] == "cases.csv" and len(event.after["sha256"]) == 64

    again = _apply(admin, _token(page))
    assert again.status_code == 404
    assert "no longer available" in errors_beside(again.text, "file")
    assert _count(app, pap, Case) == 3


def test_a_reimport_is_previewed_as_updates(app, pap, admin):
    assert _apply(admin, _token(_check(admin, (HEADER + GOOD).encode()).text)).status_code == 302
    page = _check(admin, (HEADER + GOOD).encode()).text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert (facts["New cases"], facts["Updated cases"], facts["New people"]) == ("0", "3", "0")


def test_a_bad_file_shows_every_error_in_a_table_and_writes_nothing(app, pap, admin, owner_engine):
    bad = (
        "B-9,Dee,dee@bps.org,Adams,evaluation,,2009-13-01,,,\n"
        "B-001,Eve,eve@bps.org,Adams,peer_assistance,,2009-10-01,,,\n"
    )
    unchanged = _Unchanged(app, owner_engine)
    response = _check(admin, (HEADER + GOOD + bad).encode())
    assert response.status_code == 422
    rows = _error_rows(response.text)
    assert ("5", "track", "unknown track 'evaluation' (use Peer Assistance (peer_assistance))") in (
        rows
    )
    assert ("5", "requested_on", "'2009-13-01' is not a date (use YYYY-MM-DD)") in rows
    assert ("6", "external_id", "'B-001' is also on line 2") in rows
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), key=int)
    assert "3 problems in the file; nothing was written." in response.text
    assert 'name="upload"' not in response.text, "a refused file cannot be imported"
    assert unchanged.changes() == []


def test_a_latin_1_file_says_so_beside_the_file_and_names_the_line(app, pap, admin, owner_engine):
    unchanged = _Unchanged(app, owner_engine)
    line = "B-9,Dee,dee@bps.org,Caf\u00e9,peer_assistance,,2009-10-01,,,\n"
    response = _check(admin, (HEADER + GOOD).encode() + line.encode("latin-1"))
    assert response.status_code == 422
    assert "is not UTF-8 text" in errors_beside(response.text, "file")
    assert ("5", "school", "is not UTF-8 text (byte 0xE9 cannot be read)") in _error_rows(
        response.text
    )
    assert unchanged.changes() == []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "", "Choose the CSV file to check."),
        (b"", "cases.csv", "The file is empty"),
        (b"  \r\n", "cases.csv", "The file is empty"),
        (b"PK\x03\x04rest of a workbook", "cases.xlsx", "is a spreadsheet"),
        (b"%PDF-1.7\n", "cases.pdf", "is a PDF, not CSV"),
        (codecs.BOM_UTF16_LE + HEADER.encode("utf-16-le"), "cases.csv", "saved as UTF-16"),
        (HEADER.replace(",outcome", "").encode(), "cases.csv", "Missing column: outcome."),
        (HEADER.encode(), "cases.csv", "The file has no rows."),
    ],
)
def test_a_bad_upload_is_refused_beside_the_file(
    app, pap, admin, owner_engine, data, name, message
):
    unchanged = _Unchanged(app, owner_engine)
    response = _check(admin, data, name=name)
    assert 400 <= response.status_code < 500
    assert message in errors_beside(response.text, "file")
    assert unchanged.changes() == []


def test_a_file_over_the_limit_is_refused_beside_the_file(
    app, pap, admin, owner_engine, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_EVIDENCE_BYTES", 200)
    unchanged = _Unchanged(app, owner_engine)
    response = _check(admin, (HEADER + GOOD).encode())
    assert response.status_code == 422
    assert "larger than the limit" in errors_beside(response.text, "file")
    assert unchanged.changes() == []


def test_survey_answers_need_their_round(app, pap, admin, owner_engine):
    unchanged = _Unchanged(app, owner_engine)
    response = _check(admin, (ANSWERS + ANSWER).encode(), "survey_responses", "answers.csv")
    assert response.status_code == 400
    assert "Enter the school year" in errors_beside(response.text, "year")
    assert "how many questionnaires were sent" in errors_beside(response.text, "sent")
    assert unchanged.changes() == []


def test_survey_answers_are_previewed_then_imported(app, pap, admin, owner_engine):
    unchanged = _Unchanged(app, owner_engine)
    preview = _answers(admin, (ANSWERS + ANSWER + ANSWER.replace("R1", "R2")).encode())
    assert preview.status_code == 200, preview.text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", preview.text))
    assert (facts["New answers"], facts["Updated answers"]) == ("2", "0")
    assert "of 70 questionnaires sent" in preview.text
    kept = [c.split(":")[0] for c in unchanged.changes()]
    assert kept == ["import_uploads", f"file {kept[-1][5:]}"], "only the kept file is new"
    assert _count(app, pap, SurveyRound) == 0, "a preview adds no round"

    done = _apply(admin, _token(preview.text))
    assert done.status_code == 302
    assert "Imported 2 new and 0 updated survey answers." in admin.client.get(done.location).text
    assert _count(app, pap, SurveyResponse) == 2


def test_too_many_answers_for_those_sent_is_refused_beside_sent(app, pap, admin):
    response = _answers(admin, (ANSWERS + ANSWER).encode(), sent="0")
    assert response.status_code == 422
    assert "1 answers but only 0 sent." in errors_beside(response.text, "sent")
    assert _count(app, pap, SurveyRound) == 0


def test_someone_elses_preview_is_refused(app, pap, admin, make_user):
    token = _token(_check(admin, (HEADER + GOOD).encode()).text)
    other = Browser(app, pap, make_user(pap.tenant, "program_admin", email="admin2@bostonpap.org"))
    response = _apply(other, token)
    assert response.status_code == 409
    assert "made by someone else" in errors_beside(response.text, "file")
    assert _count(app, pap, Case) == 0


def test_another_districts_preview_is_not_found(app, pap, admin, district):
    token = _token(_check(admin, (HEADER + GOOD).encode()).text)
    other = district("elsewhere", "boston_pap_2007")
    response = _apply(Browser(app, other, other.people["admin"]), token)
    assert response.status_code == 404
    assert "no longer available" in errors_beside(response.text, "file")
    assert _count(app, pap, Case) == 0 and _count(app, other, Case) == 0


def test_a_stale_preview_is_refused(app, pap, admin, owner_engine):
    token = _token(_check(admin, (HEADER + GOOD).encode()).text)
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE import_uploads SET created_at = created_at - :age"),
            {"age": timedelta(hours=2)},
        )
    response = _apply(admin, token)
    assert response.status_code == 409
    assert "more than 1 hour old" in errors_beside(response.text, "file")
    assert _count(app, pap, Case) == 0


def test_a_preview_the_district_has_moved_past_is_refused(app, pap, admin):
    token = _token(_check(admin, (HEADER + GOOD).encode()).text)
    api = Api(app, pap, pap.people["coordinator"])
    file = {"file": (io.BytesIO((HEADER + GOOD).encode()), "cases.csv")}
    assert api.post("/imports/cases", data=file, content_type="multipart/form-data").json == {
        "created": 3,
        "updated": 0,
    }
    response = _apply(admin, token)
    assert response.status_code == 409
    assert "would now write something else" in errors_beside(response.text, "file")


def test_a_kept_file_that_changed_is_refused(app, pap, admin):
    token = _token(_check(admin, (HEADER + GOOD).encode()).text)
    with app.app_context(), tenant_scope(pap.tenant.id):
        kept = db.session.execute(select(ImportUpload)).scalar_one()
        name = kept.file_key.split("/")[1]
        path = Path(app.config["UPLOAD_ROOT"]) / str(pap.tenant.id) / name[:2] / name
    path.write_bytes((HEADER + GOOD.replace("Adams", "Lincoln")).encode())
    response = _apply(admin, token)
    assert response.status_code == 409
    assert "changed since its preview" in errors_beside(response.text, "file")
    assert _count(app, pap, Case) == 0


def test_a_new_preview_replaces_the_earlier_one(app, pap, admin):
    first = _token(_check(admin, (HEADER + GOOD).encode()).text)
    with app.app_context(), tenant_scope(pap.tenant.id):
        key = db.session.execute(select(ImportUpload.file_key)).scalar_one()
    name = key.split("/")[1]
    path = Path(app.config["UPLOAD_ROOT"]) / str(pap.tenant.id) / name[:2] / name
    assert path.exists()
    second = _token(_check(admin, (HEADER + GOOD).encode()).text)
    assert first != second and not path.exists()
    assert _count(app, pap, ImportUpload) == 1
    assert _apply(admin, first).status_code == 404
    assert _apply(admin, second).status_code == 302


def test_only_a_program_admin_imports(app, pap):
    coordinator = Browser(app, pap, pap.people["coordinator"])
    assert coordinator.get(PAGE).status_code == 403
    token = coordinator.client.get(f"/t/{pap.slug}/").text
    response = coordinator.client.post(
        f"/t/{pap.slug}{PAGE}/apply", data={"upload": "x", "csrf_token": _csrf(token)}
    )
    assert response.status_code == 403
    assert _count(app, pap, Case) == 0


def _csrf(html: str) -> str:
    from tests.factories import csrf_token

    return csrf_token(html)


def test_the_error_table_lists_lines_in_order_and_leaves_the_rest():
    cells, rest = imports.error_table(
        {
            "rows[12].school": ["too long"],
            "rows[3]": ["has 11 values"],
            "file": ["not UTF-8"],
            "sent": ["too many"],
        }
    )
    assert [(c.line, c.column, c.message) for c in cells] == [
        (3, None, "has 11 values"),
        (12, "school", "too long"),
    ]
    assert rest == {"file": ["not UTF-8"], "sent": ["too many"]}
