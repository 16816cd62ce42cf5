"""The district calendar: working days skip weekends and the days the district is closed;
the program admin keeps the closed days on a page, every change audited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.appeal import ClosedDay
from app.models.audit import AuditEvent
from app.models.user import User
from app.services import calendar
from app.tenants.context import tenant_scope
from tests.casework import Browser, errors_beside

THANKSGIVING = date(2026, 11, 26)  # a Thursday
DAY_AFTER = date(2026, 11, 27)


def _close(app, d, *days: tuple[date, str]) -> None:
    with app.app_context(), tenant_scope(d.tenant.id):
        admin = db.session.get(User, d.people["admin"].id)
        for day, label in days:
            calendar.add_closed_day(day, label, admin)
        uow.commit()


def _days(app, d) -> list[tuple[date, str]]:
    with app.app_context(), tenant_scope(d.tenant.id):
        rows = db.session.execute(select(ClosedDay).order_by(ClosedDay.day)).scalars()
        return [(r.day, r.label) for r in rows]


def _actions(app, d) -> list[str]:
    with app.app_context(), tenant_scope(d.tenant.id):
        query = select(AuditEvent.action).where(AuditEvent.object_type == "closed_day")
        return list(db.session.execute(query.order_by(AuditEvent.seq)).scalars())


@pytest.fixture
def cincinnati(district):
    return district("cincinnati", "cincinnati")


def test_working_days_skip_weekends(app, cincinnati):
    with app.app_context(), tenant_scope(cincinnati.tenant.id):
        # Wednesday 25 November: Thursday, Friday, then Monday 30 November...
        assert calendar.working_days_after(date(2026, 11, 25), 1) == THANKSGIVING
        assert calendar.working_days_after(date(2026, 11, 25), 3) == date(2026, 11, 30)
        assert calendar.working_days_after(date(2026, 11, 25), 10) == date(2026, 12, 9)
        # From a Saturday, Monday is the first working day.
        assert calendar.working_days_after(date(2026, 11, 28), 1) == date(2026, 11, 30)
        assert not calendar.is_working_day(date(2026, 11, 28))
        assert calendar.is_working_day(THANKSGIVING)


def test_closed_days_inside_a_window_push_its_end(app, cincinnati, district):
    _close(app, cincinnati, (THANKSGIVING, "Thanksgiving"), (DAY_AFTER, "Thanksgiving break"))
    other = district("toledo", "toledo")
    with app.app_context(), tenant_scope(cincinnati.tenant.id):
        assert not calendar.is_working_day(THANKSGIVING)
        assert calendar.working_days_after(date(2026, 11, 25), 1) == date(2026, 11, 30)
        assert calendar.working_days_after(date(2026, 11, 25), 10) == date(2026, 12, 11)
        assert calendar.working_days_before(date(2026, 11, 30), 1) == date(2026, 11, 25)
        assert calendar.working_days_before(date(2026, 12, 11), 2) == date(2026, 12, 9)
    with app.app_context(), tenant_scope(other.tenant.id):
        # Another district's calendar is its own.
        assert calendar.working_days_after(date(2026, 11, 25), 10) == date(2026, 12, 9)


def test_many_closed_days_are_counted_past_the_first_stretch(app, cincinnati):
    """A long closure (a strike, a storm) longer than the first stretch read is counted."""
    closed = [
        (date.fromordinal(date(2026, 12, 1).toordinal() + n), f"Closure {n}")
        for n in range(60)
        if date.fromordinal(date(2026, 12, 1).toordinal() + n).weekday() < 5
    ]
    _close(app, cincinnati, *closed)
    last = closed[-1][0]
    with app.app_context(), tenant_scope(cincinnati.tenant.id):
        first_open = calendar.working_days_after(last, 1)
        assert calendar.working_days_after(date(2026, 11, 30), 1) == first_open
        assert calendar.working_days_before(first_open, 1) == date(2026, 11, 30)


def _page(app, d, user=None):
    return Browser(app, d, user or d.people["admin"])


def _add(browser, day: str, label: str, year: int = 2026):
    return browser.post(
        f"/admin/calendar?year={year}", f"/admin/calendar?year={year}", {"day": day, "label": label}
    )


def test_the_admin_adds_and_removes_a_closed_day_on_the_page_with_audit(app, cincinnati):
    browser = _page(app, cincinnati)
    workflow = browser.get("/admin/workflow")
    assert "/admin/calendar" in workflow.text and "District calendar" in workflow.text
    empty = browser.get("/admin/calendar?year=2026")
    assert empty.status_code == 200
    assert "No closed day in this school year yet" in empty.text

    added = _add(browser, "2026-11-26", "Thanksgiving")
    assert added.status_code == 302, added.text
    assert _days(app, cincinnati) == [(THANKSGIVING, "Thanksgiving")]
    page = browser.get("/admin/calendar?year=2026").text
    assert "Thursday 2026-11-26" in page and "Thanksgiving" in page
    assert "School year 2026\u20132027" in page

    removed = browser.post(
        "/admin/calendar?year=2026", "/admin/calendar/remove?year=2026", {"day": "2026-11-26"}
    )
    assert removed.status_code == 302, removed.text
    assert _days(app, cincinnati) == []
    assert _actions(app, cincinnati) == [
        "calendar.closed_day_added",
        "calendar.closed_day_removed",
    ]


def test_a_weekend_day_is_refused_beside_the_field_saying_it_needs_no_entry(app, cincinnati):
    refused = _add(_page(app, cincinnati), "2026-11-28", "Saturday clean-up")
    assert refused.status_code == 422
    assert (
        "2026-11-28 is a Saturday: weekends are never working days, so it needs no entry."
        in errors_beside(refused.text, "day")
    )
    assert _days(app, cincinnati) == [] and _actions(app, cincinnati) == []


def test_a_day_already_closed_is_refused_with_its_date(app, cincinnati):
    _close(app, cincinnati, (THANKSGIVING, "Thanksgiving"))
    again = _add(_page(app, cincinnati), "2026-11-26", "Holiday")
    assert again.status_code == 409
    assert "2026-11-26 is already closed (Thanksgiving)." in errors_beside(again.text, "day")
    assert _days(app, cincinnati) == [(THANKSGIVING, "Thanksgiving")]


def test_a_day_without_a_reason_or_with_control_characters_is_refused(app, cincinnati):
    browser = _page(app, cincinnati)
    blank = _add(browser, "2026-11-26", "   ")
    assert blank.status_code in (400, 422)
    assert "Say why the district is closed that day." in errors_beside(blank.text, "label")
    control = _add(browser, "2026-11-26", "Thanks\x07giving")
    assert control.status_code == 422
    assert "control characters" in errors_beside(control.text, "label")
    assert _days(app, cincinnati) == []


def test_removing_a_day_not_on_the_calendar_says_so(app, cincinnati):
    missing = _page(app, cincinnati).post(
        "/admin/calendar?year=2026", "/admin/calendar/remove?year=2026", {"day": "2026-11-26"}
    )
    assert missing.status_code == 404
    assert "2026-11-26 is not on the district calendar." in missing.text
    assert _actions(app, cincinnati) == []


def test_only_the_program_admin_keeps_the_calendar(app, cincinnati):
    coordinator = _page(app, cincinnati, cincinnati.people["coordinator"])
    assert coordinator.get("/admin/calendar").status_code == 403
    posted = coordinator.post(
        "/cases/", "/admin/calendar", {"day": "2026-11-26", "label": "Thanksgiving"}
    )
    assert posted.status_code == 403
    assert _days(app, cincinnati) == []
