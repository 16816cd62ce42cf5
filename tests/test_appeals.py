"""Appeals as configuration: the teacher appeals the approved decision inside a window of
working days, and the body the track names decides (the final authority, an appeal panel
of members who did not sit on the decision, or an outside arbiter the coordinator records)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.core import uow
from app.extensions import db
from app.models.appeal import Appeal, AppealReminder, AppealVote
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.outbox import OutboxMessage
from app.models.panel import FinalDecision
from app.models.user import User
from app.services import calendar, panel
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from app.workflows import load_preset
from tests.casework import Api, Browser, errors_beside
from tests.conftest import make_app
from tests.test_jobs import _work

GROUNDS = "The panel did not weigh the two observations made after my leave."
WINDOW = 10  # Cincinnati's working days


@pytest.fixture
def decided(app, awaiting_approval):
    """A Cincinnati intern whose contract the Superintendent did not renew (the preset:
    an appeal within 10 working days, decided by the Superintendent)."""
    return _decided(app, awaiting_approval, "cincinnati")


def _decided(app, awaiting_approval, slug: str, appeal: dict | None = None):
    document = None
    if appeal is not None:
        document = copy.deepcopy(load_preset("cincinnati"))
        document["tracks"]["intern"]["appeal"] = appeal
    waiting = awaiting_approval(slug, "cincinnati", "intern", "unsatisfactory", document)
    approved = Api(app, waiting.district, waiting.authority).post(
        f"/cases/{waiting.case_id}/approvals",
        json={"approve": True, "outcome": "non_renewed", "note": "Approved."},
    )
    assert approved.status_code == 200, approved.json
    with app.app_context(), tenant_scope(waiting.district.tenant.id):
        case = db.session.get(Case, waiting.case_id)
        waiting.teacher = db.session.get(User, case.teacher_id)
    return waiting


# -- the window, counted in working days --------------------------------------------------


def _working(day: date, closed: set[date]) -> bool:
    return day.weekday() < 5 and day not in closed


def _working_days_before(end: date, n: int, closed: set[date]) -> date:
    """Counted here independently of the service: the n-th working day before ``end``."""
    day, counted = end, 0
    while counted < n:
        day -= timedelta(days=1)
        counted += _working(day, closed)
    return day


def _approved_on(app, decided, day: date) -> None:
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        db.session.execute(
            update(FinalDecision)
            .where(FinalDecision.case_id == decided.case_id)
            .values(decided_at=datetime.combine(day, time(15), tzinfo=UTC))
        )
        uow.commit()


def _window_ending(app, decided, closes_on: date) -> date:
    """Date the approval so that the window's last day is ``closes_on``, with a
    Thanksgiving-style closed day inside the window (without it the window would end a
    working day earlier). Returns the closed day."""
    unclosed = _working_days_before(closes_on, WINDOW, set())
    holiday = unclosed
    for _ in range(5):  # the 5th working day of the window, a weekday inside it
        holiday += timedelta(days=1)
        while not _working(holiday, set()):
            holiday += timedelta(days=1)
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        admin = db.session.get(User, decided.district.people["admin"].id)
        calendar.add_closed_day(holiday, "Thanksgiving", admin)
        uow.commit()
    _approved_on(app, decided, _working_days_before(closes_on, WINDOW, {holiday}))
    return holiday


def _today() -> date:
    return datetime.now(UTC).date()


def _file(app, decided, user=None, grounds: str = GROUNDS):
    page = f"/cases/{decided.case_id}"
    return Browser(app, decided.district, user or decided.teacher).post(
        page, f"/cases/{decided.case_id}/appeal", {"grounds": grounds}
    )


def _appeals(app, decided) -> list[Appeal]:
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        rows = db.session.execute(select(Appeal)).scalars().all()
        db.session.expunge_all()
        return rows


def _case(app, decided) -> Case:
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        case = db.session.get(Case, decided.case_id)
        db.session.expunge(case)
        return case


def _section(html: str) -> str:
    return html.split('data-testid="appeal"', 1)[1].split("</section>", 1)[0]


def _page(app, decided, user) -> str:
    response = Browser(app, decided.district, user).get(f"/cases/{decided.case_id}")
    assert response.status_code == 200
    return response.text


def test_the_teacher_sees_the_window_and_appeals_on_its_last_day(app, decided):
    """The window's last day is today when today is a working day (else the next one),
    with a closed day inside it: the closed day did not count."""
    closes_on = _today()
    while not _working(closes_on, set()):
        closes_on += timedelta(days=1)
    _window_ending(app, decided, closes_on)
    section = _section(_page(app, decided, decided.teacher))
    assert f"You may appeal until {closes_on.isoformat()}" in section
    assert "10 working days" in section and 'data-testid="appeal-form"' in section

    filed = _file(app, decided)
    assert filed.status_code == 302, filed.text
    (appeal,) = _appeals(app, decided)
    assert appeal.grounds == GROUNDS and appeal.status == "filed"
    assert appeal.closes_on == closes_on and appeal.body == "final_authority"

    page = _page(app, decided, decided.teacher)
    assert "Under appeal" in page and "The decision is under appeal." in page
    # Nothing else about the case changes until the appeal is decided.
    case = _case(app, decided)
    assert (case.state, case.outcome) == ("closed", "non_renewed")
    assert "Contract not renewed" in page


def test_filing_is_audited_and_tells_the_coordinator_and_the_deciding_body(app, decided):
    assert _file(app, decided).status_code == 302
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        actions = set(
            db.session.execute(
                select(AuditEvent.action).where(AuditEvent.object_id == str(decided.case_id))
            ).scalars()
        )
        notices = [
            m.payload
            for m in db.session.execute(select(OutboxMessage)).scalars()
            if m.payload.get("template") == "appeal_filed"
        ]
    assert "case.appeal_filed" in actions
    assert notices == [
        {
            "case_id": decided.case_id,
            "template": "appeal_filed",
            "to": ["coordinator", "final_authority"],
        }
    ]


def test_an_appeal_a_day_late_is_refused_with_the_day_the_window_closed(app, decided):
    closes_on = _today() - timedelta(days=1)
    while not _working(closes_on, set()):
        closes_on -= timedelta(days=1)
    _window_ending(app, decided, closes_on)
    section = _section(_page(app, decided, decided.teacher))
    assert f"The window to appeal closed on {closes_on.isoformat()}" in section
    assert 'data-testid="appeal-form"' not in section

    late = _file(app, decided)
    assert late.status_code == 409
    assert f"The window to appeal closed on {closes_on.isoformat()}." in errors_beside(
        late.text, "grounds"
    )
    assert _appeals(app, decided) == []


def test_only_the_teacher_may_appeal(app, decided):
    ct = decided.district.people["ct"]
    assert 'data-testid="appeal-form"' not in _page(app, decided, ct)
    assert _file(app, decided, ct).status_code in (403, 404)
    assert _appeals(app, decided) == []


def test_a_second_appeal_is_refused_beside_the_grounds(app, decided):
    assert _file(app, decided).status_code == 302
    again = _file(app, decided, grounds="And another reason.")
    assert again.status_code == 409
    assert "You have already appealed this decision." in errors_beside(again.text, "grounds")
    assert [a.grounds for a in _appeals(app, decided)] == [GROUNDS]


def test_empty_or_control_character_grounds_are_refused(app, decided):
    empty = _file(app, decided, grounds="   ")
    assert empty.status_code == 400
    assert "Say why you appeal the decision." in errors_beside(empty.text, "grounds")
    control = _file(app, decided, grounds="I object\x1b[2J")
    assert control.status_code == 422
    assert "control characters" in errors_beside(control.text, "grounds")
    assert _appeals(app, decided) == []


def test_the_list_and_the_api_say_which_decisions_are_under_appeal(app, decided):
    """A decision is not final while its window is open or its appeal waits: the API's case
    says so to the readers the page says it to, and the lists filter on it."""
    closes_on = _today() + timedelta(days=7)
    while not _working(closes_on, set()):
        closes_on += timedelta(days=1)
    _window_ending(app, decided, closes_on)
    teacher = Api(app, decided.district, decided.teacher)
    coordinator = decided.district.people["coordinator"]

    open_window = teacher.get(f"/cases/{decided.case_id}").json["appeal"]
    assert open_window == {
        "decided_by": "final_authority",
        "window_closes_on": closes_on.isoformat(),
        "window_open": True,
        "status": None,
        "filed_on": None,
        "decided_on": None,
    }
    staff = Api(app, decided.district, coordinator)
    assert staff.get("/cases?under_appeal=true").json["items"] == []
    listed = Browser(app, decided.district, coordinator).get("/cases/?under_appeal=y")
    assert listed.status_code == 200 and f">{decided.case_id}</a>" not in listed.text

    assert _file(app, decided).status_code == 302
    filed = teacher.get(f"/cases/{decided.case_id}").json["appeal"]
    assert (filed["status"], filed["filed_on"]) == ("filed", _today().isoformat())
    assert [c["id"] for c in staff.get("/cases?under_appeal=true").json["items"]] == [
        decided.case_id
    ]
    listed = Browser(app, decided.district, coordinator).get("/cases/?under_appeal=y")
    assert f">{decided.case_id}</a>" in listed.text
    # The panel's chair reads the case but not its appeal (the page shows them none).
    chair = _user(app, decided, f"chair@{decided.district.slug}.org")
    seen = Api(app, decided.district, chair).get(f"/cases/{decided.case_id}")
    assert seen.status_code == 200 and seen.json["appeal"] is None

    denied = {"appeal_decision": "deny", "appeal_note": "The record supports the decision."}
    assert _decide(app, decided, decided.authority, denied).status_code == 302
    settled = teacher.get(f"/cases/{decided.case_id}").json["appeal"]
    assert (settled["status"], settled["decided_on"]) == ("denied", _today().isoformat())
    assert staff.get("/cases?under_appeal=true").json["items"] == []


# -- the final authority decides ----------------------------------------------------------


def _decide(app, decided, user, data: dict):
    page = f"/cases/{decided.case_id}"
    return Browser(app, decided.district, user).post(
        page, f"/cases/{decided.case_id}/appeal/decision", data
    )


def test_the_superintendent_sees_the_appeal_waiting_and_grants_it(app, decided):
    assert _file(app, decided).status_code == 302
    desk = Browser(app, decided.district, decided.authority).get("/panel/approvals")
    assert desk.status_code == 200
    waiting = desk.text.split('data-testid="pending-appeals"', 1)[1]
    assert f"/cases/{decided.case_id}" in waiting
    section = _section(_page(app, decided, decided.authority))
    assert GROUNDS in section and 'data-testid="appeal-decision-form"' in section

    granted = _decide(
        app,
        decided,
        decided.authority,
        {"appeal_decision": "grant", "appeal_note": "The late observations were not weighed."},
    )
    assert granted.status_code == 302, granted.text
    case = _case(app, decided)
    assert (case.outcome, case.report_group) == ("renewed", "continued")
    (appeal,) = _appeals(app, decided)
    assert appeal.status == "granted" and appeal.decided_by_id == decided.authority.id
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.appeal_decided")
        ).scalar_one()
        told = [
            m.payload["to"]
            for m in db.session.execute(select(OutboxMessage)).scalars()
            if m.payload.get("template") == "appeal_decided"
        ]
    assert event.before["outcome"] == "non_renewed" and event.after["outcome"] == "renewed"
    assert event.before["report_group"] == "not_continued"
    assert told == [["case_teacher", "coordinator"]]
    teacher_page = _page(app, decided, decided.teacher)
    assert "Appeal granted" in teacher_page and "Contract renewed" in teacher_page
    assert "Granted by the Superintendent" in _section(teacher_page)
    empty = Browser(app, decided.district, decided.authority).get("/panel/approvals").text
    assert "No appeal waits for your decision." in empty


def test_a_denied_appeal_leaves_the_decision_standing(app, decided):
    assert _file(app, decided).status_code == 302
    denied = _decide(
        app,
        decided,
        decided.authority,
        {"appeal_decision": "deny", "appeal_note": "The record supports the decision."},
    )
    assert denied.status_code == 302, denied.text
    case = _case(app, decided)
    assert (case.outcome, case.report_group) == ("non_renewed", "not_continued")
    section = _section(_page(app, decided, decided.teacher))
    assert "Appeal denied" in section and "the decision stands" in section


def test_the_decision_needs_a_choice_and_only_the_final_authority_makes_it(app, decided):
    assert _file(app, decided).status_code == 302
    unchosen = _decide(app, decided, decided.authority, {"appeal_note": "Reasons."})
    assert unchosen.status_code == 400
    assert "Choose to grant or to deny the appeal." in errors_beside(
        unchosen.text, "appeal_decision"
    )
    coordinator = decided.district.people["coordinator"]
    refused = _decide(
        app, decided, coordinator, {"appeal_decision": "grant", "appeal_note": "Reasons."}
    )
    assert refused.status_code == 403
    assert "Only the Superintendent decides this appeal." in errors_beside(
        refused.text, "appeal_decision"
    )
    assert _appeals(app, decided)[0].status == "filed"
    assert _case(app, decided).outcome == "non_renewed"


# -- an appeal panel ----------------------------------------------------------------------


PANEL_APPEAL = {
    "window_working_days": 10,
    "body": "appeal_panel",
    "granted_outcome": "renewed",
    "decision_rule": {"kind": "majority", "of": "seats"},
}


def _seat_newcomers(app, decided, make_user, count: int) -> list[User]:
    """Members seated after the decision: they did not sit on it."""
    people = []
    for n in range(count):
        user = make_user(decided.district.tenant, "panel_member", email=f"new{n}@appeals.org")
        with app.app_context(), tenant_scope(decided.district.tenant.id):
            row = db.session.get(User, user.id)
            panel.seats.save_member(row, "teachers", False, None, None, Actor.system())
            uow.commit()
        people.append(user)
    return people


def _vote(app, decided, user, choice: str):
    page = f"/cases/{decided.case_id}"
    return Browser(app, decided.district, user).post(
        page, f"/cases/{decided.case_id}/appeal/vote", {"appeal_vote": choice}
    )


def test_an_appeal_panel_of_members_who_did_not_sit_votes_and_below_the_rule_denies(
    app, awaiting_approval, make_user
):
    decided = _decided(app, awaiting_approval, "appeals", PANEL_APPEAL)
    assert _file(app, decided).status_code == 302
    first, second, third = _seat_newcomers(app, decided, make_user, 3)

    # The chair sat on the decision: they read why they do not vote, and a vote is refused.
    chair = _user(app, decided, "chair@appeals.org")
    chair_page = Browser(app, decided.district, chair).get(f"/cases/{decided.case_id}").text
    assert "You sat on the decision under appeal" in chair_page
    refused = _vote(app, decided, chair, "grant")
    assert refused.status_code == 403
    assert "You sat on the decision under appeal" in errors_beside(refused.text, "appeal_vote")

    # A newcomer reads the case and its grounds, and must choose.
    section = _section(_page(app, decided, first))
    assert GROUNDS in section and 'data-testid="appeal-vote-form"' in section
    unchosen = _vote(app, decided, first, "")
    assert unchosen.status_code == 400
    assert "Choose to grant or to deny the appeal." in errors_beside(unchosen.text, "appeal_vote")

    assert _vote(app, decided, first, "grant").status_code == 302
    assert _vote(app, decided, second, "deny").status_code == 302
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        votes = db.session.execute(select(AppealVote.user_id)).scalars().all()
    assert sorted(votes) == sorted([first.id, second.id])

    coordinator = decided.district.people["coordinator"]
    close_page = _section(_page(app, decided, coordinator))
    assert "2 votes cast; 3 members may vote" in close_page
    unticked = Browser(app, decided.district, coordinator).post(
        f"/cases/{decided.case_id}", f"/cases/{decided.case_id}/appeal/close", {}
    )
    assert unticked.status_code == 400
    assert "Tick the box to close the vote" in errors_beside(unticked.text, "close_vote")
    closed = Browser(app, decided.district, coordinator).post(
        f"/cases/{decided.case_id}", f"/cases/{decided.case_id}/appeal/close", {"close_vote": "y"}
    )
    assert closed.status_code == 302, closed.text
    (appeal,) = _appeals(app, decided)
    # A majority of the 3 eligible seats is 2; one grant does not carry it.
    assert appeal.status == "denied"
    assert "1 of 2 votes to grant" in appeal.decision_words
    assert "a majority of the 3 eligible members needed: 2" in appeal.decision_words
    assert _case(app, decided).outcome == "non_renewed"
    assert third.id not in votes


def test_an_appeal_panel_carries_the_appeal_when_the_rule_is_met(app, awaiting_approval, make_user):
    decided = _decided(app, awaiting_approval, "carried", PANEL_APPEAL)
    assert _file(app, decided).status_code == 302
    members = _seat_newcomers(app, decided, make_user, 3)
    for member in members[:2]:
        assert _vote(app, decided, member, "grant").status_code == 302
    closed = Browser(app, decided.district, decided.district.people["coordinator"]).post(
        f"/cases/{decided.case_id}", f"/cases/{decided.case_id}/appeal/close", {"close_vote": "y"}
    )
    assert closed.status_code == 302, closed.text
    assert _appeals(app, decided)[0].status == "granted"
    assert _case(app, decided).outcome == "renewed"


def _user(app, decided, email: str) -> User:
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        db.session.expunge(user)
        return user


# -- an outside arbiter -------------------------------------------------------------------


def test_the_coordinator_records_the_arbiters_award(app, awaiting_approval):
    decided = _decided(
        app,
        awaiting_approval,
        "arbiter",
        {"window_working_days": 10, "body": "arbiter", "granted_outcome": "renewed"},
    )
    assert _file(app, decided).status_code == 302
    coordinator = decided.district.people["coordinator"]
    section = _section(_page(app, decided, coordinator))
    assert "The arbiter&#39;s name" in section or "The arbiter's name" in section
    unnamed = _decide(
        app, decided, coordinator, {"appeal_decision": "grant", "appeal_note": "Award attached."}
    )
    assert unnamed.status_code == 422
    assert "Name the arbiter who decided." in errors_beside(unnamed.text, "arbiter_name")
    # The Superintendent does not decide an arbiter's appeal.
    refused = _decide(
        app,
        decided,
        decided.authority,
        {"arbiter_name": "J. Smith", "appeal_decision": "deny", "appeal_note": "No."},
    )
    assert refused.status_code == 403
    recorded = _decide(
        app,
        decided,
        coordinator,
        {
            "arbiter_name": "Jordan Smith, AAA",
            "appeal_decision": "grant",
            "appeal_note": "The award reinstates the contract.",
        },
    )
    assert recorded.status_code == 302, recorded.text
    (appeal,) = _appeals(app, decided)
    assert appeal.status == "granted" and appeal.arbiter_name == "Jordan Smith, AAA"
    assert appeal.decided_by_id == coordinator.id
    assert _case(app, decided).outcome == "renewed"
    assert "Granted by the arbiter, Jordan Smith, AAA" in _page(app, decided, decided.teacher)


# -- the reminder -------------------------------------------------------------------------


def test_the_teacher_is_reminded_once_two_working_days_before_the_window_closes(
    app, migrated, redis_url, smtp_server, awaiting_approval
):
    from app.jobs.appeal_reminders import remind_due

    port, inbox = smtp_server
    mail_app = make_app(migrated, REDIS_URL=redis_url, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    with mail_app.app_context():
        from app.core.redis import redis_connection

        redis_connection().flushdb()
    decided = _decided(app, awaiting_approval, "reminded")
    closes_on = _today() + timedelta(days=14)
    while not _working(closes_on, set()):
        closes_on += timedelta(days=1)
    _window_ending(app, decided, closes_on)
    with mail_app.app_context(), tenant_scope(decided.district.tenant.id):
        remind_on = calendar.working_days_before(closes_on, 2)
    holiday_free = _working_days_before(closes_on, 2, set())
    assert remind_on == holiday_free  # the closed day lies earlier in the window

    with mail_app.app_context():
        assert remind_due(today=remind_on - timedelta(days=1)) == 0  # not yet
        assert remind_due(today=remind_on) == 1
        assert remind_due(today=remind_on) == 0  # once
    _work(mail_app)
    _work(mail_app)
    with mail_app.app_context():
        assert remind_due(today=closes_on) == 0
    _work(mail_app)

    reminders = [m for m in inbox if "Appeal window closing" in m["Subject"]]
    assert [m["To"] for m in reminders] == [decided.teacher.email]
    assert GROUNDS not in reminders[0].get_payload()
    assert f"the last day is {closes_on.isoformat()}" in reminders[0].get_payload()
    with mail_app.app_context(), all_tenants():
        rows = db.session.execute(select(AppealReminder)).scalars().all()
    assert [(r.case_id, r.closes_on) for r in rows] == [(decided.case_id, closes_on)]


def test_no_reminder_once_the_teacher_has_appealed(app, decided):
    from app.jobs.appeal_reminders import remind_due

    assert _file(app, decided).status_code == 302
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        closes_on = calendar.working_days_after(_today(), WINDOW)
    with app.app_context():
        assert remind_due(today=closes_on) == 0
