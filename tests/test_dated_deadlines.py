"""Dated deadlines are computed from the case's own start, and one already past when a case
begins is moved (keeping the date it was moved from), never skipped in silence: Rochester's
semester reports, and the configured deadlines of any program."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.case import Case, CaseDeadline
from app.models.status_report import StatusReport
from app.models.user import User
from app.services import cases, status_report_schedule
from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from app.workflows import load_preset
from tests.casework import Browser
from tests.test_status_reports import _begin_support, _open


def test_rochester_no_longer_schedules_semester_reports_as_deadlines():
    document = load_preset("rochester")
    assert document.get("deadlines", []) == []
    for track in document["tracks"].values():
        assert [p["on"] for p in track["status_reports"]["at"]] == [
            "10-31",
            "01-20",
            "03-31",
            "06-10",
        ]
        effects = [e for t in track["transitions"] for e in t.get("effects", [])]
        assert not [e for e in effects if isinstance(e, dict) and "schedule_deadline" in e]


def test_a_rochester_case_beginning_in_february_keeps_its_fall_reports_moved(
    app, district, make_user
):
    d = district("rochester", "rochester")
    case_id = _open(app, d, "intern", make_user(d.tenant, "teacher", email="ng@rochester.org"))
    start = date(2027, 2, 8)  # the 2026-27 school year began on 09-01
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        case.started_on = start
        status_report_schedule.schedule(case, today=start)
        uow.commit()
        rows = db.session.execute(
            select(StatusReport.label, StatusReport.due_on, StatusReport.moved_from)
            .where(StatusReport.case_id == case_id)
            .order_by(StatusReport.due_on, StatusReport.id)
        ).all()
    moved_to = start + timedelta(days=7)  # the track's remind_days_before
    assert [tuple(r) for r in rows] == [
        ("Mid-semester (fall)", moved_to, date(2026, 10, 31)),
        ("End of semester (fall)", moved_to, date(2027, 1, 20)),
        ("Mid-semester (spring)", date(2027, 3, 31), None),
        ("End of semester (spring)", date(2027, 6, 10), None),
    ]
    page = Browser(app, d, d.people["ct"]).get(f"/cases/{case_id}").text
    section = page.split('data-testid="status-reports"', 1)[1].split("</section>", 1)[0]
    assert "moved from 2026-10-31: already past when the case began" in section
    assert "moved from 2027-01-20: already past when the case began" in section
    # Support beginning afterwards schedules nothing twice.
    _begin_support(app, d, case_id)
    with app.app_context(), tenant_scope(d.tenant.id):
        count = db.session.execute(
            select(StatusReport.id).where(StatusReport.case_id == case_id)
        ).all()
    assert len(count) == 4


def _publish_with_deadline(app, d, relative_to: str, days: int) -> None:
    document = copy.deepcopy(load_preset("san_juan"))
    document["deadlines"] = [
        {"key": "final_report", "label": "Final report", "relative_to": relative_to, "days": days}
    ]
    with app.app_context(), tenant_scope(d.tenant.id):
        configs.save_draft(document)
        configs.publish(note="a deadline dated from enrollment")
        uow.commit()


def _deadline(app, d, case_id: int) -> CaseDeadline:
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.execute(
            select(CaseDeadline).where(CaseDeadline.case_id == case_id)
        ).scalar_one()
        db.session.expunge(row)
        return row


def test_a_configured_deadline_already_past_is_moved_a_week_and_shown_moved(
    app, district, make_user
):
    d = district("sanjuan", "san_juan")
    _publish_with_deadline(app, d, "enrolled_on", -30)
    case_id = _open(app, d, "beginning", make_user(d.tenant, "teacher", email="li@sanjuan.org"))
    _begin_support(app, d, case_id)  # hold_introduction schedules final_report
    today = date.today()
    row = _deadline(app, d, case_id)
    assert (row.due_on, row.moved_from) == (
        today + timedelta(days=7),
        today - timedelta(days=30),
    )
    home = Browser(app, d, d.people["ct"]).get("/").text
    assert f"moved from {(today - timedelta(days=30)).isoformat()}" in home


def test_a_configured_deadline_still_ahead_is_kept_as_dated(app, district, make_user):
    d = district("sanjuan", "san_juan")
    _publish_with_deadline(app, d, "enrolled_on", 30)
    case_id = _open(app, d, "beginning", make_user(d.tenant, "teacher", email="li@sanjuan.org"))
    _begin_support(app, d, case_id)
    row = _deadline(app, d, case_id)
    assert (row.due_on, row.moved_from) == (date.today() + timedelta(days=30), None)
    with app.app_context(), tenant_scope(d.tenant.id):
        assert db.session.get(User, d.people["ct"].id) is not None
        case = db.session.get(Case, case_id)
        assert cases.deadlines(case)[0].moved_from is None
