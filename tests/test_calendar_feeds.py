"""Private calendar feeds, read as a calendar app reads them: the feed is parsed with
``icalendar`` and compared with what each person sees in the portal (the CT's week, a
teacher's own case, a seated or recused panel member, a principal), and the address is
made, shown once, stopped and refused like the secret it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.calendar_feed import CalendarFeed, CalendarRevision
from app.models.case import Case, CaseDeadline
from app.models.status_report import StatusReport
from app.models.support import Visit
from app.models.user import User
from app.services import calendar_feeds, case_lists, support
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, to_support
from tests.panelwork import PanelSetup

PRIVATE_NOTES = "Private CT notes for the record"


def _key(app, d, user: User) -> str:
    """A feed address for ``user``, made as the account page makes it."""
    with app.app_context(), tenant_scope(d.tenant.id):
        key = calendar_feeds.create(db.session.get(User, user.id))
        uow.commit()
        return key


def _fetch(client, slug: str, key: str):
    return client.get(f"/t/{slug}/calendar.ics", query_string={"key": key})


def _events(app, slug: str, key: str) -> dict[str, object]:
    """The feed as a calendar app holds it: its events by UID."""
    response = _fetch(app.test_client(), slug, key)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == len(calendar.walk("VEVENT")), "every UID appears once"
    return events


def _day(event) -> date:
    return event.decoded("DTSTART")


def _plan(app, d, case_id: int, on: date, *, notes: str | None = None) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        visit = support.log_visit(
            case,
            db.session.get(User, d.people["ct"].id),
            support.VisitInput("observation", on, 45, notes=notes, planned=True),
        )
        uow.commit()
        return visit.id


@dataclass
class Week:
    setup: PanelSetup
    #: kim's case, in support, with the school's principal.
    other_case: int
    #: The planned visit on each case this week, by teacher.
    visits: dict[str, int]
    session_id: int


@pytest.fixture
def week(app, toledo_panel: PanelSetup, make_user):
    """The Toledo panel's case (lee's, in panel review) on a session in three days, a
    second teacher's case in support with the school's principal, and planned visits on
    both inside this week."""
    from app.services import panel

    d = toledo_panel.district
    other = make_user(d.tenant, "teacher", email="kim@toledo.org")
    d.people["teacher"] = other
    other_case = to_support(app, d, "intervention", "unsatisfactory", with_principal=True)
    today = date.today()
    visits = {
        "lee": _plan(app, d, toledo_panel.case_id, today + timedelta(days=1), notes=PRIVATE_NOTES),
        "kim": _plan(app, d, other_case, today + timedelta(days=2), notes=PRIVATE_NOTES),
    }
    with app.app_context(), tenant_scope(d.tenant.id):
        actor = Actor.of(db.session.get(User, d.people["coordinator"].id))
        session = panel.sessions.schedule(today + timedelta(days=3), "Board room 2", actor)
        panel.sessions.add_to_agenda(session, db.session.get(Case, toledo_panel.case_id), actor)
        db.session.add(
            StatusReport(
                tenant_id=d.tenant.id,
                case_id=other_case,
                label="December report",
                due_on=today + timedelta(days=5),
                progress=[],
            )
        )
        uow.commit()
        session_id = session.id
    return Week(toledo_panel, other_case, visits, session_id)


def _uids(events, prefix: str) -> set[str]:
    return {uid for uid in events if uid.startswith(prefix)}


def test_the_cts_feed_matches_the_cts_week(app, week):
    setup = week.setup
    other_case = week.other_case
    visits = week.visits
    d = setup.district
    ct = d.people["ct"]
    events = _events(app, d.slug, _key(app, d, ct))
    today = date.today()
    with app.app_context(), tenant_scope(d.tenant.id):
        ct_row = db.session.get(User, ct.id)
        day = case_lists.ct_day(ct_row, today)
        planned = [*day.today, *day.this_week]
        reports = {f"status-report-{r.id}@": r.due_on for r in day.reports_due}
        deadlines = db.session.execute(
            select(CaseDeadline).join(Case).where(Case.ct_id == ct.id)
        ).scalars()
        expected_deadlines = {f"deadline-{x.id}@": x.due_on for x in deadlines}
        logged = db.session.execute(
            select(Visit).where(Visit.case_id.in_([setup.case_id, other_case]))
        ).scalars()
        every_visit = {v.id: v.visited_on for v in logged}
    # The fixture plans them one and two days ahead: on a Saturday the second is next week's.
    week_end = today + timedelta(days=6 - today.weekday())
    this_week = {
        visits[k] for k, ahead in (("lee", 1), ("kim", 2)) if ahead <= (week_end - today).days
    }
    assert {v.id for v in planned} >= this_week
    # Every meeting of the CT's week is in the calendar, on its day, naming its teacher.
    for visit in planned:
        event = events[next(uid for uid in events if uid.startswith(f"visit-{visit.id}@"))]
        assert _day(event) == visit.visited_on
        assert "(planned)" in str(event["SUMMARY"])
    lee_visit = next(u for u in events if u.startswith(f"visit-{visits['lee']}@"))
    kim_visit = next(u for u in events if u.startswith(f"visit-{visits['kim']}@"))
    assert str(events[lee_visit]["SUMMARY"]) == "Observation: Person lee (planned)"
    assert str(events[kim_visit]["SUMMARY"]) == "Observation: Person kim (planned)"
    assert str(events[kim_visit]["LOCATION"]) == "Lincoln Elementary"
    # And every visit of the caseload (logged ones too), no more.
    assert {int(u.split("@")[0].split("-")[1]) for u in _uids(events, "visit-")} == set(every_visit)
    # The session the CT's case goes before, though the CT holds no seat on it.
    review = [e for u, e in events.items() if u.startswith("agenda-item-")]
    assert [(_day(e), str(e["SUMMARY"])) for e in review] == [
        (today + timedelta(days=3), "Panel review: Person lee")
    ]
    assert _uids(events, "panel-session-") == set()
    # The caseload's deadlines on their days.
    found = {uid.split("@")[0] + "@": _day(e) for uid, e in events.items() if "deadline-" in uid}
    assert expected_deadlines and found == expected_deadlines
    # The status reports the CT's home lists as due.
    due = {u.split("@")[0] + "@": _day(e) for u, e in events.items() if "status-report-" in u}
    assert reports and due == reports
    assert any(
        str(e["SUMMARY"]) == "Status report due (December report): Person kim"
        for e in events.values()
    )
    body = _fetch(app.test_client(), d.slug, _key(app, d, ct)).text
    assert PRIVATE_NOTES not in body
    assert "unsatisfactory" not in body.lower()


def test_a_teachers_feed_has_only_their_own_case(app, week):
    setup = week.setup
    other_case = week.other_case
    visits = week.visits
    d = setup.district
    events = _events(app, d.slug, _key(app, d, setup.teacher))
    mine = _uids(events, "visit-")
    assert any(u.startswith(f"visit-{visits['lee']}@") for u in mine)
    assert not any(u.startswith(f"visit-{visits['kim']}@") for u in mine)
    with app.app_context(), tenant_scope(d.tenant.id):
        kims = set(
            db.session.execute(select(Visit.id).where(Visit.case_id == other_case)).scalars()
        )
    assert not {int(u.split("@")[0].split("-")[1]) for u in mine} & kims
    lee = events[next(u for u in mine if u.startswith(f"visit-{visits['lee']}@"))]
    assert str(lee["SUMMARY"]) == "Observation with Person ct (planned)"
    text = _fetch(app.test_client(), d.slug, _key(app, d, setup.teacher)).text
    assert "Person kim" not in text
    assert PRIVATE_NOTES not in text
    # No panel session, nor the agenda: deliberation is not the teacher's to see.
    assert not _uids(events, "panel-session-") and not _uids(events, "agenda-item-")
    # Nor the status report still to write on kim's case.
    assert not _uids(events, "status-report-")


def test_panel_members_see_the_sessions_they_sit_on_and_only_the_cases_they_may_read(
    app, week, make_user
):
    setup = week.setup
    session_id = week.session_id
    d = setup.district
    seated = _events(app, d.slug, _key(app, d, setup.members["teacher2"]))
    session = seated[next(u for u in seated if u.startswith(f"panel-session-{session_id}@"))]
    assert _day(session) == date.today() + timedelta(days=3)
    assert str(session["LOCATION"]) == "Board room 2"
    assert "Person lee" in str(session["DESCRIPTION"])
    assert not _uids(seated, "visit-")
    # admin4 works at the case's school: recused by rule, the session shows no name.
    recused = _events(app, d.slug, _key(app, d, setup.members["admin4"]))
    entry = recused[next(u for u in recused if u.startswith(f"panel-session-{session_id}@"))]
    assert "Person lee" not in str(entry["DESCRIPTION"])
    assert not any("Person lee" in str(e["SUMMARY"]) for e in recused.values())
    # The panel role without a seat shows nothing of the session.
    unseated = make_user(d.tenant, "panel_member", email="nobody@toledo.org")
    assert _events(app, d.slug, _key(app, d, unseated)) == {}


def test_a_principal_sees_only_the_cases_of_their_school_the_track_shares(app, week):
    setup = week.setup
    other_case = week.other_case
    d = setup.district
    events = _events(app, d.slug, _key(app, d, d.people["principal"]))
    text = _fetch(app.test_client(), d.slug, _key(app, d, d.people["principal"])).text
    # lee's case has no principal: nothing of it; kim's is the principal's school's.
    assert "Person lee" not in text
    assert PRIVATE_NOTES not in text
    assert not _uids(events, "panel-session-") and not _uids(events, "agenda-item-")
    with app.app_context(), tenant_scope(d.tenant.id):
        kim_deadlines = set(
            db.session.execute(
                select(CaseDeadline.id).where(CaseDeadline.case_id == other_case)
            ).scalars()
        )
    found = {int(u.split("@")[0].split("-")[1]) for u in _uids(events, "deadline-")}
    assert kim_deadlines and found == kim_deadlines
    # Toledo shares participation and status reports with the principal, not the visits.
    assert not _uids(events, "visit-")


def test_another_districts_address_and_a_stopped_one_are_not_found(app, week, district, make_user):
    setup = week.setup
    d = setup.district
    elsewhere = district("bravo", "boston_esp")
    person = make_user(elsewhere.tenant, "teacher", email="t@bravo.org")
    theirs = _key(app, elsewhere, person)
    client = app.test_client()
    assert _fetch(client, "bravo", theirs).status_code == 200
    assert _fetch(client, d.slug, theirs).status_code == 404
    first = _key(app, d, setup.teacher)
    assert _fetch(client, d.slug, first).status_code == 200
    second = _key(app, d, setup.teacher)  # a new address stops the old one
    assert _fetch(client, d.slug, first).status_code == 404
    assert _fetch(client, d.slug, second).status_code == 200
    with app.app_context(), tenant_scope(d.tenant.id):
        assert calendar_feeds.revoke(db.session.get(User, setup.teacher.id))
        uow.commit()
    assert _fetch(client, d.slug, second).status_code == 404
    assert _fetch(client, d.slug, "not-a-key").status_code == 404
    bare = client.get(f"/t/{d.slug}/calendar.ics")
    assert bare.status_code == 200 and "Calendar feeds" in bare.text
    assert "Set-Cookie" not in bare.headers


def test_a_closed_districts_feeds_show_nothing(app, week):
    from app.models.tenant import Tenant
    from app.tenants.context import all_tenants

    setup = week.setup
    d = setup.district
    key = _key(app, d, setup.teacher)
    assert _fetch(app.test_client(), d.slug, key).status_code == 200
    with app.app_context(), all_tenants():
        db.session.get(Tenant, d.tenant.id).billing_status = "canceled"
        uow.commit()
    assert _fetch(app.test_client(), d.slug, key).status_code == 404


def test_a_new_password_ends_the_address(app, week):
    setup = week.setup
    d = setup.district
    key = _key(app, d, setup.teacher)
    with app.app_context(), tenant_scope(d.tenant.id):
        db.session.get(User, setup.teacher.id).session_version += 1
        uow.commit()
    assert _fetch(app.test_client(), d.slug, key).status_code == 404


def test_an_edited_visit_keeps_its_uid_with_a_higher_sequence(app, week):
    setup = week.setup
    other_case = week.other_case
    visits = week.visits
    d = setup.district
    key = _key(app, d, d.people["ct"])
    before = _events(app, d.slug, key)
    uid = next(u for u in before if u.startswith(f"visit-{visits['kim']}@"))
    assert int(before[uid]["SEQUENCE"]) == 0
    with app.app_context(), tenant_scope(d.tenant.id):
        visit = db.session.get(Visit, visits["kim"])
        case = db.session.get(Case, other_case)
        ct = db.session.get(User, d.people["ct"].id)
        support.complete_visit(
            visit, case, ct, support.VisitInput("observation", date.today(), 50, notes="Went well")
        )
        uow.commit()
    after = _events(app, d.slug, key)
    assert uid in after
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    assert _day(after[uid]) == date.today()
    assert str(after[uid]["SUMMARY"]) == "Observation: Person kim"
    assert after[uid].decoded("LAST-MODIFIED") >= before[uid].decoded("LAST-MODIFIED")
    # Other events are untouched.
    lee = next(u for u in before if u.startswith(f"visit-{visits['lee']}@"))
    assert int(after[lee]["SEQUENCE"]) == int(before[lee]["SEQUENCE"])


def test_a_closed_cases_planned_visits_and_deadlines_are_cancelled(app, week):
    setup = week.setup
    other_case = week.other_case
    visits = week.visits
    d = setup.district
    key = _key(app, d, d.people["ct"])
    before = _events(app, d.slug, key)
    uid = next(u for u in before if u.startswith(f"visit-{visits['kim']}@"))
    assert str(before[uid]["STATUS"]) == "CONFIRMED"
    with app.app_context(), tenant_scope(d.tenant.id):
        db.session.get(Case, other_case).closed_at = utcnow()
        uow.commit()
    after = _events(app, d.slug, key)
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])


def _count(app, d, model) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_reading_the_feed_writes_nothing_and_sets_no_cookie(app, week):
    setup = week.setup
    d = setup.district
    key = _key(app, d, d.people["ct"])
    before = [_count(app, d, m) for m in (AuditEvent, CalendarFeed, CalendarRevision, Visit)]
    client = app.test_client()
    response = _fetch(client, d.slug, key)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is None
    refused = _fetch(client, d.slug, "wrong")
    assert refused.status_code == 404 and "Set-Cookie" not in refused.headers
    after = [_count(app, d, m) for m in (AuditEvent, CalendarFeed, CalendarRevision, Visit)]
    assert after == before


def _address(page: str) -> str:
    start = page.index('id="feed-address-value" value="') + len('id="feed-address-value" value="')
    return unescape(page[start : page.index('"', start)])


def _feed_id(page: str) -> str:
    match = re.search(r'name="calendar_feed_id"[^>]*value="(\d+)"', page)
    assert match, "the page offers no address to stop"
    return match.group(1)


def test_a_page_left_open_cannot_stop_a_newer_address(app, week):
    setup = week.setup
    d = setup.district
    browser = Browser(app, d, setup.teacher)
    browser.post("/account/calendar", "/account/calendar", {})
    old_id = _feed_id(browser.get("/account/calendar").text)
    newer = _key(app, d, setup.teacher)  # made in another tab
    stale = browser.post(
        "/account/calendar", "/account/calendar/revoke", {"calendar_feed_id": old_id}
    )
    assert stale.status_code == 302
    assert "already stopped" in browser.client.get(stale.location).text
    assert _fetch(app.test_client(), d.slug, newer).status_code == 200


def test_the_account_page_makes_shows_once_and_stops_the_address(app, week):
    setup = week.setup
    d = setup.district
    browser = Browser(app, d, d.people["ct"])
    account = browser.get("/account/password")
    assert "/account/calendar" in account.text
    page = browser.get("/account/calendar")
    assert page.status_code == 200
    assert "You have no calendar address yet." in page.text
    made = browser.post("/account/calendar", "/account/calendar", {})
    assert made.status_code == 200
    address = _address(made.text)
    assert address.startswith(f"http://localhost/t/{d.slug}/calendar.ics?key=")
    assert app.test_client().get(address).status_code == 200
    again = browser.get("/account/calendar")
    assert "You have a calendar address" in again.text
    assert address.split("key=")[1] not in again.text  # shown once
    with app.app_context(), tenant_scope(d.tenant.id):
        actions = list(
            db.session.execute(
                select(AuditEvent.action).where(AuditEvent.action.like("calendar_feed.%"))
            ).scalars()
        )
        stored = db.session.execute(select(CalendarFeed.token_hash)).scalars().all()
    assert actions == ["calendar_feed.created"]
    assert address.split("key=")[1] not in stored  # only the digest is kept
    feed_id = _feed_id(again.text)
    stopped = browser.post(
        "/account/calendar", "/account/calendar/revoke", {"calendar_feed_id": feed_id}
    )
    assert stopped.status_code == 302
    assert app.test_client().get(address).status_code == 404
    assert "You have no calendar address yet." in browser.get("/account/calendar").text
    with app.app_context(), tenant_scope(d.tenant.id):
        assert (
            db.session.execute(
                select(func.count()).where(AuditEvent.action == "calendar_feed.revoked")
            ).scalar_one()
            == 1
        )


def test_guessing_feed_addresses_is_limited(app, make_tenant):
    tenant = make_tenant("guessed")
    client = app.test_client()
    answers = [_fetch(client, tenant.slug, "guess").status_code for _ in range(21)]
    assert answers[:20] == [404] * 20
    assert answers[20] == 429
    refused = _fetch(client, tenant.slug, "guess")
    assert "Retry-After" in refused.headers


def test_the_teacher_sees_the_last_day_to_appeal_until_they_appeal(app, awaiting_approval):
    from app.services import appeals

    waiting = awaiting_approval("cincy", "cincinnati", "intern", "unsatisfactory")
    d = waiting.district
    approved = Api(app, d, waiting.authority).post(
        f"/cases/{waiting.case_id}/approvals",
        json={"approve": True, "outcome": "non_renewed", "note": "Approved."},
    )
    assert approved.status_code == 200, approved.json
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, waiting.case_id)
        closes_on = appeals.window_closes_on(case)
        teacher = db.session.get(User, case.teacher_id)
    key = _key(app, d, teacher)
    events = _events(app, d.slug, key)
    window = [e for u, e in events.items() if u.startswith(f"appeal-window-{waiting.case_id}@")]
    assert [(_day(e), str(e["SUMMARY"])) for e in window] == [
        (closes_on, "Last day to appeal the decision")
    ]
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, waiting.case_id)
        appeals.file(case, db.session.get(User, case.teacher_id), "The panel erred.")
        uow.commit()
    assert not _uids(_events(app, d.slug, key), "appeal-window-")
