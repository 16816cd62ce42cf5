"""Deadlines remind once, a week ahead, and the schedule lists what runs periodically; the
case page says when each deadline is reminded, and the coordinator can remind it now."""

from __future__ import annotations

import importlib
import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.jobs.periodic import SCHEDULE
from app.jobs.reminders import remind_due
from app.models.audit import AuditEvent
from app.models.case import Case, CaseDeadline
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants, tenant_scope
from tests.casework import Browser
from tests.test_jobs import _work, mail_app  # noqa: F401 - a fixture of the job tests


def _deadline(app, tenant, case_id, key, days, closed=False):
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            CaseDeadline(
                tenant_id=tenant.id,
                case_id=case_id,
                key=key,
                due_on=date.today() + timedelta(days=days),
            )
        )
        if closed:
            case = db.session.get(Case, case_id)
            case.closed_at = case.created_at
        uow.commit()


def test_a_deadline_within_a_week_is_reminded_once(app, district, make_user, make_case):
    d = district("boston", "boston_esp")
    soon = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    later = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    closed = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    _deadline(app, d.tenant, soon.id, "recommendation", 3)
    _deadline(app, d.tenant, later.id, "recommendation", 30)
    _deadline(app, d.tenant, closed.id, "recommendation", 2, closed=True)
    with app.app_context():
        assert remind_due() == 1
        assert remind_due() == 0
        with all_tenants():
            rows = db.session.execute(select(OutboxMessage)).scalars().all()
    assert [(r.payload["case_id"], r.payload["template"]) for r in rows] == [
        (soon.id, "recommendation_due")
    ]


def test_the_schedule_names_each_job_once_and_each_can_be_imported():
    names = [entry.name for entry in SCHEDULE]
    assert len(names) == len(set(names))
    for entry in SCHEDULE:
        module, _, attr = entry.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr))
        assert entry.queue in ("default", "mail", "exports")


# --- Seen and sent from the case page ------------------------------------------------------


def _boston_case(app, district, make_user, make_case, closed=False):
    """A Boston case with its CT, and two deadlines: one inside the sweep's week, one later."""
    d = district("boston", "boston_esp")
    case = make_case(d.tenant, make_user(d.tenant, "teacher"), "par", ct_id=d.people["ct"].id)
    _deadline(app, d.tenant, case.id, "recommendation_due", 3, closed=closed)
    _deadline(app, d.tenant, case.id, "recommendation", 20)
    with app.app_context(), tenant_scope(d.tenant.id):
        ids = dict(
            db.session.execute(
                select(CaseDeadline.key, CaseDeadline.id).where(CaseDeadline.case_id == case.id)
            ).all()
        )
    return d, case, ids


def _notices(app) -> list[dict]:
    with app.app_context(), all_tenants():
        rows = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.job == "mail.case_notice")
        ).scalars()
        return [r.payload for r in rows]


def _item(html: str, deadline_id: int) -> str:
    """One deadline's entry in the deadlines section, as text with its markup."""
    found = re.search(
        rf'data-testid="deadline-{deadline_id}">(.*?)(?=<li data-testid="deadline-|</section>)',
        html,
        re.S,
    )
    assert found, f"the case page lists no deadline {deadline_id}"
    return unescape(re.sub(r"\s+", " ", found.group(1)))


def _remind(browser: Browser, case_id: int, deadline_id: int):
    return browser.post(f"/cases/{case_id}", f"/cases/{case_id}/deadlines/{deadline_id}/remind", {})


def test_the_case_page_says_when_each_deadline_is_reminded(app, district, make_user, make_case):
    d, case, ids = _boston_case(app, district, make_user, make_case)
    page = Browser(app, d, d.people["coordinator"]).get(f"/cases/{case.id}").text
    soon, later = _item(page, ids["recommendation_due"]), _item(page, ids["recommendation"])
    assert "Consulting Teacher's recommendation due" in soon  # the label, never the key
    assert "will be reminded within the hour" in soon
    week_ahead = (date.today() + timedelta(days=13)).isoformat()
    assert f"will be reminded on {week_ahead}, a week ahead" in later
    assert "Remind now" in soon and "Remind now" in later
    # The CT reads when, and has no button; the teacher's page has no deadlines section.
    ct_page = Browser(app, d, d.people["ct"]).get(f"/cases/{case.id}").text
    assert "will be reminded within the hour" in _item(ct_page, ids["recommendation_due"])
    assert "Remind now" not in ct_page


def test_remind_now_writes_one_audited_notice_and_a_second_press_is_refused_beside_it(
    app, district, make_user, make_case
):
    d, case, ids = _boston_case(app, district, make_user, make_case)
    coordinator = Browser(app, d, d.people["coordinator"])
    later = ids["recommendation"]
    sent = _remind(coordinator, case.id, later)
    assert sent.status_code == 302
    page = coordinator.get(f"/cases/{case.id}").text
    assert "Reminder of Recommendation" in page and "queued for the" in page
    assert f"Reminded on {date.today().isoformat()}" in _item(page, later)
    assert _notices(app) == [
        {"case_id": case.id, "template": "recommendation_due", "to": ["assigned_ct", "coordinator"]}
    ]
    with app.app_context(), tenant_scope(d.tenant.id):
        assert db.session.get(CaseDeadline, later).reminded_at is not None
        [event] = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.deadline_reminded")
        ).scalars()
        assert event.object_id == str(case.id) and event.after["deadline"] == "recommendation"
        assert event.actor_id == d.people["coordinator"].id

    again = _remind(coordinator, case.id, later)
    assert again.status_code == 409
    item = _item(again.text, later)
    assert 'role="alert"' in item and "nothing was sent again" in item
    assert re.search(r"<button[^>]*autofocus[^>]*>Remind now", item)
    assert len(_notices(app)) == 1


def test_the_sweep_leaves_a_deadline_reminded_by_hand_alone(app, district, make_user, make_case):
    d, case, ids = _boston_case(app, district, make_user, make_case)
    assert _remind(Browser(app, d, d.people["coordinator"]), case.id, ids["recommendation_due"])
    with app.app_context():
        assert remind_due() == 0
    assert [p["template"] for p in _notices(app)] == ["recommendation_due_due"]


def test_only_the_coordinator_or_admin_reminds_and_never_on_a_closed_case(
    app, district, make_user, make_case
):
    d, case, ids = _boston_case(app, district, make_user, make_case, closed=True)
    soon = ids["recommendation_due"]
    assert _remind(Browser(app, d, d.people["ct"]), case.id, soon).status_code == 403
    admin = Browser(app, d, d.people["admin"])
    page = admin.get(f"/cases/{case.id}").text
    assert "Not reminded: the case is closed." in _item(page, soon)
    assert "Remind now" not in page
    refused = _remind(admin, case.id, soon)
    assert refused.status_code == 409 and "This case is closed and read-only." in refused.text
    assert _notices(app) == []


def test_a_deadline_of_another_case_is_not_found(app, district, make_user, make_case):
    d, _, ids = _boston_case(app, district, make_user, make_case)
    other = make_case(d.tenant, make_user(d.tenant, "teacher"), "par")
    coordinator = Browser(app, d, d.people["coordinator"])
    assert _remind(coordinator, other.id, ids["recommendation"]).status_code == 404
    assert _notices(app) == []


def test_a_deadline_reminded_now_reaches_the_ct_and_coordinator_through_an_rq_worker(
    mail_app,  # noqa: F811 - the job tests' fixture
    district,
    make_user,
    make_case,
    smtp_server,
):
    _, inbox = smtp_server
    d, case, ids = _boston_case(mail_app, district, make_user, make_case)
    coordinator = Browser(mail_app, d, d.people["coordinator"])
    assert _remind(coordinator, case.id, ids["recommendation"]).status_code == 302
    _work(mail_app)
    assert sorted(m["To"] for m in inbox) == ["coord@boston.org", "ct@boston.org"]
    assert all("Recommendation due" in m["Subject"] for m in inbox)
    assert all(f"/cases/{case.id}" in m.get_payload() for m in inbox)
