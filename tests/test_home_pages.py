"""Home pages show what is still ahead: a closed case has no meetings or deadlines to come,
and the program admin reaches every everyday page from home."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case, CaseDeadline
from app.services import labels, support
from app.tenants.context import tenant_scope
from tests.casework import Browser


@pytest.fixture
def toledo(district):
    return district("toledo", "toledo")


def _case_with_a_meeting_ahead(app, d, make_user, make_case) -> tuple[object, int]:
    teacher = make_user(d.tenant, "teacher", email="ahead@toledo.org")
    case = make_case(d.tenant, teacher, "intervention")
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.get(Case, case.id)
        ct = db.session.get(type(teacher), d.people["ct"].id)
        row.ct_id, row.state = ct.id, "support"
        soon = date.today() + timedelta(days=3)
        support.log_visit(row, ct, support.VisitInput("observation", soon, planned=True))
        row.deadlines.append(CaseDeadline(tenant_id=d.tenant.id, key="final_report", due_on=soon))
        uow.commit()
    return teacher, case.id


def _close(app, d, case_id: int) -> None:
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.get(Case, case_id)
        row.state, row.closed_at, row.outcome = "closed", utcnow(), "resigned"
        uow.commit()


def test_a_closed_case_shows_no_meeting_or_deadline_ahead(app, toledo, make_user, make_case):
    teacher, case_id = _case_with_a_meeting_ahead(app, toledo, make_user, make_case)
    home = Browser(app, toledo, teacher).get("/").text
    assert "Upcoming meetings" in home
    page = Browser(app, toledo, toledo.people["coordinator"]).get(f"/cases/{case_id}").text
    assert "Next deadline" in page

    _close(app, toledo, case_id)
    assert "Upcoming meetings" not in Browser(app, toledo, teacher).get("/").text
    page = Browser(app, toledo, toledo.people["coordinator"]).get(f"/cases/{case_id}").text
    assert "Next deadline" not in page


def test_the_program_admin_reaches_everyday_pages_from_home(app, toledo):
    home = Browser(app, toledo, toledo.people["admin"]).get("/").text
    for label in (
        "District calendar",
        "The district's look",
        "Import history and survey answers",
        "Document signing",
        "Billing",
    ):
        assert label in home


def test_only_the_caseload_reads_deadlines(app, toledo, make_user, make_case, count_queries):
    """The teacher's home shows no deadline, so it reads none; the CT's caseload shows each
    case's next one."""
    teacher, _case_id = _case_with_a_meeting_ahead(app, toledo, make_user, make_case)
    soon = (date.today() + timedelta(days=3)).isoformat()
    reader = Browser(app, toledo, teacher)
    with count_queries() as teachers:
        assert "Upcoming meetings" in reader.get("/").text
    assert not [sql for sql in teachers if "case_deadlines" in sql]
    ct = Browser(app, toledo, toledo.people["ct"])
    with count_queries() as cts:
        assert soon in ct.get("/").text
    assert [sql for sql in cts if "case_deadlines" in sql]


def test_the_caseload_reads_each_next_deadline_in_its_own_statement(
    app, toledo, make_user, make_case, count_queries
):
    """The CT's caseload and the case list show each case's next deadline without a
    statement of their own for deadlines; a deadline already past is not "next"."""
    _teacher, case_id = _case_with_a_meeting_ahead(app, toledo, make_user, make_case)
    soon = date.today() + timedelta(days=3)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        db.session.add(
            CaseDeadline(
                tenant_id=toledo.tenant.id,
                case_id=case_id,
                key="past",
                due_on=date.today() - timedelta(days=1),
            )
        )
        uow.commit()
    for who, path in (("ct", "/"), ("coordinator", "/cases/")):
        with count_queries() as sent:
            page = Browser(app, toledo, toledo.people[who]).get(path).text
        assert soon.isoformat() in page
        assert (date.today() - timedelta(days=1)).isoformat() not in page
        reads = [sql for sql in sent if "case_deadlines" in sql]
        assert len(reads) == 1 and "FROM cases" in reads[0], reads


def test_the_homes_name_the_people_and_say_the_programs_words(app, toledo, make_user, make_case):
    """The teacher's home names their CT and their case's track and state in the program's
    words, and their meeting's kind; the CT's caseload names the teacher, with the same
    words and the next deadline. Read as rows, they must still say what the objects said."""
    teacher, case_id = _case_with_a_meeting_ahead(app, toledo, make_user, make_case)
    ct = toledo.people["ct"]
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case = db.session.get(Case, case_id)
        track_words, state_words = labels.track_name(case), labels.state_label(case)
        meeting_words = labels.visit_type_label("observation")
    home = html.unescape(Browser(app, toledo, teacher).get("/").text)
    assert f"{track_words} #{case_id}" in home
    assert state_words in home
    assert ct.name in home
    assert f"{(date.today() + timedelta(days=3)).isoformat()}: {meeting_words}" in home
    caseload = html.unescape(Browser(app, toledo, ct).get("/").text)
    row = caseload[caseload.index(teacher.name) :]
    row = row[: row.index("</tr>")]
    assert track_words in row and state_words in row
    assert (date.today() + timedelta(days=3)).isoformat() in row


def test_a_case_without_a_ct_says_one_will_be_assigned(app, toledo, make_user, make_case):
    teacher = make_user(toledo.tenant, "teacher", email="waiting@toledo.org")
    make_case(toledo.tenant, teacher, "intervention")
    home = html.unescape(Browser(app, toledo, teacher).get("/").text)
    assert "will be assigned" in home
    assert toledo.people["ct"].name not in home
