"""The consulting teacher's status reports to the panel: scheduled from the track's rules when
support begins, written and signed by the CT, reminded, escalated when missed, cleared when
the case closes, read by the panel session they are placed on, and counted by the guard
that moves a San Juan case into intervention."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.core import uow
from app.extensions import db
from app.jobs.reminders import escalate_missed_reports, remind_status_reports
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.outbox import OutboxMessage
from app.models.status_report import StatusReport
from app.models.user import User
from app.services import assignments, cases, panel, status_report_schedule
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.casework import Api, Browser, errors_beside

SAN_JUAN_STANDARDS = (
    "engaging_students",
    "learning_environment",
    "subject_matter",
    "planning_instruction",
    "assessing_students",
    "professional_growth",
)
VIEW = "Planning has improved; questioning still leaves most students out."


def _open(app, d, track: str, teacher: User, *, rating: str | None = None) -> int:
    """A case taken by the coordinator to the introduction meeting (a CT assigned)."""
    with app.app_context(), tenant_scope(d.tenant.id):
        coordinator = db.session.get(User, d.people["coordinator"].id)
        case = cases.open_case(
            teacher=db.session.get(User, teacher.id),
            track_key=track,
            school="Adams",
            latest_rating=rating,
        )
        case.permanent_status = True
        for action in ("begin_intake", "accept"):
            cases.apply(case, action, coordinator)
        assignments.propose(case, db.session.get(User, d.people["ct"].id), coordinator)
        cases.apply(case, "assign_ct", coordinator)
        uow.commit()
        return case.id


def _begin_support(app, d, case_id: int, *, from_year_start: bool = False) -> None:
    """The CT records the introduction meeting: support begins and reports fall due. With
    ``from_year_start`` the case counts from the first day of the school year, so it has
    reports whatever day the suite runs (those already past are moved)."""
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        if from_year_start:
            config = configs.config_of(case.workflow_version)
            case.started_on = config.school_year(date.today())[0]
        cases.apply(case, "hold_introduction", db.session.get(User, d.people["ct"].id))
        uow.commit()


def _reports(app, d, case_id: int) -> list[StatusReport]:
    with app.app_context(), tenant_scope(d.tenant.id):
        rows = db.session.execute(
            select(StatusReport)
            .where(StatusReport.case_id == case_id)
            .order_by(StatusReport.due_on, StatusReport.id)
        ).scalars()
        found = list(rows)
        for row in found:
            db.session.expunge(row)
        return found


def _write(app, d, case_id: int, report_id: int, *, below=(), name="Person ct", omit=None):
    ratings = {
        f"rating_{key}": "unsatisfactory" if key in below else "satisfactory"
        for key in SAN_JUAN_STANDARDS
        if key != omit
    }
    data = {**ratings, "current_view": VIEW, "concerns": "Pacing", "signed_name": name}
    return Browser(app, d, d.people["ct"]).post(
        f"/cases/{case_id}", f"/cases/{case_id}/status-reports/{report_id}", data
    )


@pytest.fixture
def san_juan(district, make_user):
    d = district("sanjuan", "san_juan")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="rivera@sanjuan.org")
    return d


# --- Schedules -----------------------------------------------------------------------------


def test_every_six_weeks_from_a_start_in_the_middle_of_the_year(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    start = date(2027, 1, 11)  # San Juan's school year runs 08-15 to 08-14
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        case = db.session.get(Case, case_id)
        case.started_on = start
        status_report_schedule.schedule(case, today=start)
        uow.commit()
    rows = _reports(app, san_juan, case_id)
    assert [(r.label, r.due_on, r.moved_from) for r in rows] == [
        ("Week 6 report", date(2027, 2, 22), None),
        ("Week 12 report", date(2027, 4, 5), None),
        ("Week 18 report", date(2027, 5, 17), None),
        ("Week 24 report", date(2027, 6, 28), None),
        ("Week 30 report", date(2027, 8, 9), None),
    ]


def test_support_beginning_schedules_the_reports_once(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        assert _reports(app, san_juan, case_id) == []
    _begin_support(app, san_juan, case_id)
    rows = _reports(app, san_juan, case_id)
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        case = db.session.get(Case, case_id)
        year_end = configs.config_of(case.workflow_version).school_year(case.started_on)[1]
        first = case.started_on + timedelta(weeks=6)
        assert [r.due_on for r in rows] == [
            first + timedelta(weeks=6 * n) for n in range(len(rows))
        ] and all(r.due_on <= year_end for r in rows)
        assert (first <= year_end) == bool(rows)
        # Running it again (a later step) adds nothing.
        assert status_report_schedule.schedule(case) == []


def test_before_each_session_a_report_falls_due_a_week_ahead(app, district, make_user):
    d = district("cincy", "cincinnati")
    teacher = make_user(d.tenant, "teacher", email="kim@cincy.org")
    waiting = _open(app, d, "intern", make_user(d.tenant, "teacher", email="lo@cincy.org"))
    in_support = _open(app, d, "intern", teacher)
    coordinator = Api(app, d, d.people["coordinator"])
    early = date.today() + timedelta(days=20)
    sid = coordinator.post("/panel-sessions", json={"meets_on": early.isoformat()}).json["id"]
    # Support begins after a session is scheduled: that session's report is due.
    _begin_support(app, d, in_support)
    soon = date.today() + timedelta(days=3)
    coordinator.post("/panel-sessions", json={"meets_on": soon.isoformat()})
    rows = _reports(app, d, in_support)
    assert [(r.label, r.due_on, r.moved_from, r.for_session_id is not None) for r in rows] == [
        (
            f"Before the panel session of {soon.isoformat()}",
            date.today(),
            soon - timedelta(7),
            True,
        ),
        (f"Before the panel session of {early.isoformat()}", early - timedelta(7), None, True),
    ]
    assert rows[1].for_session_id == sid
    # A case whose support has not begun reports before no session.
    assert _reports(app, d, waiting) == []


# --- Deadlines that act ----------------------------------------------------------------------


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context(), all_tenants():
        return list(db.session.execute(select(OutboxMessage)).scalars())


def test_the_ct_is_reminded_once_a_week_ahead_and_the_coordinator_told_once_when_missed(
    app, san_juan
):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    start = date(2027, 1, 11)
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        case = db.session.get(Case, case_id)
        case.started_on = start
        status_report_schedule.schedule(case, today=start)
        uow.commit()
    first = _reports(app, san_juan, case_id)[0]
    before = {m.id for m in _outbox(app)}
    with app.app_context():
        assert remind_status_reports(first.due_on - timedelta(days=8)) == 0
        assert remind_status_reports(first.due_on - timedelta(days=7)) == 1
        assert remind_status_reports(first.due_on - timedelta(days=6)) == 0
        assert escalate_missed_reports(first.due_on) == 0
        assert escalate_missed_reports(first.due_on + timedelta(days=1)) == 1
        assert escalate_missed_reports(first.due_on + timedelta(days=2)) == 0
    sent = [m.payload for m in _outbox(app) if m.id not in before]
    assert [(p["template"], p["to"], p["status_report_id"]) for p in sent] == [
        ("status_report_due", ["assigned_ct"], first.id),
        ("status_report_missed", ["coordinator"], first.id),
    ]
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        actions = db.session.execute(
            select(AuditEvent.action).where(AuditEvent.object_id == str(case_id))
        ).scalars()
        assert "case.status_report_missed" in set(actions)


def test_nothing_is_reminded_escalated_or_listed_once_the_case_closes(app, san_juan, make_user):
    closing = _open(app, san_juan, "veteran", san_juan.people["teacher"], rating="unsatisfactory")
    _begin_support(app, san_juan, closing, from_year_start=True)
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        case = db.session.get(Case, closing)
        coordinator = db.session.get(User, san_juan.people["coordinator"].id)
        cases.apply(case, "leave", coordinator, {"outcome": "resigned"})
        uow.commit()
    rows = _reports(app, san_juan, closing)
    assert rows, "the case had reports before it closed"
    with app.app_context():
        for day in {r.due_on - timedelta(days=1) for r in rows}:
            assert remind_status_reports(day) == 0
        assert escalate_missed_reports(rows[-1].due_on + timedelta(days=1)) == 0
    assert _outbox_templates(app) & {"status_report_due", "status_report_missed"} == set()
    ct = Browser(app, san_juan, san_juan.people["ct"])
    home = ct.get("/").text
    assert 'data-testid="reports-due"' not in home and 'data-testid="reports-overdue"' not in home
    page = ct.get(f"/cases/{closing}").text
    assert "No longer due" in page and 'data-testid="status-report-form"' not in page


def _outbox_templates(app) -> set[str]:
    return {m.payload.get("template") for m in _outbox(app)}


def test_the_cts_home_lists_due_and_overdue_reports(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    _begin_support(app, san_juan, case_id, from_year_start=True)
    first, second, *_ = _reports(app, san_juan, case_id)
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        for report, days in ((first, -2), (second, 3)):
            db.session.execute(
                update(StatusReport)
                .where(StatusReport.id == report.id)
                .values(due_on=date.today() + timedelta(days=days))
            )
        uow.commit()
    home = Browser(app, san_juan, san_juan.people["ct"]).get("/").text
    due = home.split('data-testid="reports-due"', 1)[1].split("</ul>", 1)[0]
    overdue = home.split('data-testid="reports-overdue"', 1)[1].split("</ul>", 1)[0]
    assert second.label in due and (date.today() + timedelta(days=3)).isoformat() in due
    assert first.label in overdue and "Person rivera" in overdue


# --- Writing, signing, acknowledging ---------------------------------------------------------


def test_the_form_starts_empty_and_refuses_a_missing_rating_or_a_wrong_name(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    _begin_support(app, san_juan, case_id, from_year_start=True)
    report = _reports(app, san_juan, case_id)[0]
    page = Browser(app, san_juan, san_juan.people["ct"]).get(f"/cases/{case_id}").text
    form = page.split('data-testid="status-report-form"', 1)[1].split("</form>", 1)[0]
    # Labels, never keys; every rating starts on "Choose a rating", none preselected.
    assert "Engaging and supporting all students in learning" in form
    assert form.count("Choose a rating") == len(SAN_JUAN_STANDARDS)
    assert "selected" not in form

    missing = _write(app, san_juan, case_id, report.id, omit="subject_matter")
    assert missing.status_code == 400
    assert "Choose a rating for Understanding and organizing subject matter." in errors_beside(
        missing.text, "rating_subject_matter"
    )
    wrong = _write(app, san_juan, case_id, report.id, name="Someone Else")
    assert wrong.status_code == 422
    assert "Type your name as the district has it to sign: Person ct." in errors_beside(
        wrong.text, "signed_name"
    )
    assert not _reports(app, san_juan, case_id)[0].written

    signed = _write(app, san_juan, case_id, report.id, name="  person   CT ")
    assert signed.status_code == 302, signed.text
    written = _reports(app, san_juan, case_id)[0]
    assert written.written and written.author_id == san_juan.people["ct"].id
    assert written.visits_since == 0 and len(written.progress) == len(SAN_JUAN_STANDARDS)
    again = _write(app, san_juan, case_id, report.id)
    assert again.status_code == 409


def test_the_teacher_reads_and_acknowledges_the_report(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    _begin_support(app, san_juan, case_id, from_year_start=True)
    report = _reports(app, san_juan, case_id)[0]
    assert (
        _write(app, san_juan, case_id, report.id, below={"planning_instruction"}).status_code == 302
    )
    teacher = Browser(app, san_juan, san_juan.people["teacher"])
    page = teacher.get(f"/cases/{case_id}").text
    section = page.split('data-testid="status-reports"', 1)[1].split("</section>", 1)[0]
    assert VIEW in section and "below standard" in section
    # The teacher sees written reports only, never the ones still due.
    assert 'data-testid="report-due"' not in section
    path = f"/cases/{case_id}/status-reports/{report.id}/acknowledge"
    wrong = teacher.post(f"/cases/{case_id}", path, {"typed_name": "Not Me"})
    assert wrong.status_code == 422
    assert "Person rivera" in errors_beside(wrong.text, "report_typed_name")
    done = teacher.post(f"/cases/{case_id}", path, {"typed_name": "Person Rivera"})
    assert done.status_code == 302, done.text
    page = teacher.get(f"/cases/{case_id}").text
    assert f'data-testid="report-ack-form-{report.id}"' not in page
    assert "Acknowledged: " in page


# --- The panel reads it ------------------------------------------------------------------------


def test_a_written_report_is_read_on_the_next_session_by_seated_members_only(
    app, san_juan, make_user
):
    seated = make_user(san_juan.tenant, "panel_member", email="seated@sanjuan.org")
    unseated = make_user(san_juan.tenant, "panel_member", email="unseated@sanjuan.org")
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        row = db.session.get(User, seated.id)
        panel.seats.save_member(row, "teachers", False, None, None, Actor.system())
        uow.commit()
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    _begin_support(app, san_juan, case_id, from_year_start=True)
    report = _reports(app, san_juan, case_id)[0]
    # Written before any session is scheduled: it waits for the next one.
    assert _write(app, san_juan, case_id, report.id).status_code == 302
    assert _reports(app, san_juan, case_id)[0].session_id is None
    coordinator = Api(app, san_juan, san_juan.people["coordinator"])
    meets = (date.today() + timedelta(days=14)).isoformat()
    sid = coordinator.post("/panel-sessions", json={"meets_on": meets}).json["id"]
    assert _reports(app, san_juan, case_id)[0].session_id == sid

    member_page = Browser(app, san_juan, seated).get(f"/panel/sessions/{sid}").text
    listed = member_page.split('data-testid="status-reports-to-read"', 1)[1]
    assert f"Case {case_id}: Person rivera" in listed and report.label in listed
    assert f'href="#status-report-{report.id}"' in listed and VIEW in listed

    other = Browser(app, san_juan, unseated).get(f"/panel/sessions/{sid}").text
    assert "Status reports to read" not in other and VIEW not in other


# --- San Juan's rule as a guard ------------------------------------------------------------------


def test_two_unsatisfactory_reports_in_two_areas_move_the_case_into_intervention(app, san_juan):
    case_id = _open(app, san_juan, "beginning", san_juan.people["teacher"])
    _begin_support(app, san_juan, case_id, from_year_start=True)
    first, second, third, *_ = _reports(app, san_juan, case_id)
    coordinator = Browser(app, san_juan, san_juan.people["coordinator"])

    def move():
        return coordinator.post(
            f"/cases/{case_id}", f"/cases/{case_id}/actions/begin_intervention", {}
        )

    two_areas = {"planning_instruction", "assessing_students"}
    assert _write(app, san_juan, case_id, first.id, below=two_areas).status_code == 302
    blocked = move()
    assert blocked.status_code == 409
    needs = "needs 2 status reports each rating at least 2 standards below standard"
    assert f"{needs} (has 1)" in blocked.text
    # One area below standard is not enough to count.
    assert _write(app, san_juan, case_id, second.id, below={"subject_matter"}).status_code == 302
    assert f"{needs} (has 1)" in move().text
    assert _write(app, san_juan, case_id, third.id, below=two_areas).status_code == 302
    assert move().status_code == 302
    with app.app_context(), tenant_scope(san_juan.tenant.id):
        assert db.session.get(Case, case_id).state == "intervention"
