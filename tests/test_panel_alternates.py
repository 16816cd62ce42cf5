"""Alternates: they vote only in place of an absent or recused member of their constituency."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.panel import AgendaItem, PanelMember, Recusal
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.panelwork import session_with_case


def _seat_alternate(app, setup, coordinator, make_user, email: str) -> tuple[object, int]:
    """A teachers' alternate, seated through the API and marked present at the session."""
    user = make_user(setup.district.tenant, "panel_member", email=email)
    seated = coordinator.post(
        "/panel-members",
        json={"user_id": user.id, "constituency": "teachers", "alternate": True},
    )
    assert seated.status_code == 201, seated.json
    assert seated.json["alternate"] is True
    assert seated.json["is_chair"] is False
    return user, seated.json["id"]


def _mark(coordinator, sid: int, member_id: int, present: bool) -> None:
    marked = coordinator.post(
        f"/panel-sessions/{sid}/attendance", json={"member_id": member_id, "present": present}
    )
    assert marked.status_code == 200, marked.json


def _ballot(app, setup, user, sid: int, option: str):
    return Api(app, setup.district, user).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": option}
    )


def _vote(app, setup, sid: int, votes: dict[str, str]) -> None:
    for key, option in votes.items():
        response = _ballot(app, setup, setup.members[key], sid, option)
        assert response.status_code == 204, (key, response.json)


#: Four teachers and one administrator for affirm, two administrators against: five
#: votes, one short of Toledo's six of nine without the alternate's.
_FIVE_FOR = {
    "teacher1": "affirm",
    "teacher2": "affirm",
    "teacher3": "affirm",
    "teacher4": "affirm",
    "admin1": "affirm",
    "admin2": "reject",
    "admin3": "reject",
}


def _close(app, setup, sid: int) -> dict:
    closed = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    assert closed.status_code == 200, closed.json
    return closed.json["items"][0]


def test_an_alternate_does_not_vote_while_every_seat_of_their_side_is_filled(
    app, toledo_panel, make_user
):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    alternate, alternate_id = _seat_alternate(app, setup, coordinator, make_user, "alt@toledo.org")
    _mark(coordinator, sid, alternate_id, True)

    refused = _ballot(app, setup, alternate, sid, "affirm")
    assert refused.status_code == 409
    message = refused.json["errors"]["_schema"][0]
    assert "alternate" in message
    assert "absent or recused" in message


def test_an_alternate_votes_for_an_absent_member_and_the_ballot_counts(
    app, toledo_panel, make_user
):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    alternate, alternate_id = _seat_alternate(app, setup, coordinator, make_user, "alt@toledo.org")
    second, second_id = _seat_alternate(app, setup, coordinator, make_user, "alt2@toledo.org")
    _mark(coordinator, sid, alternate_id, True)
    _mark(coordinator, sid, second_id, True)
    _mark(coordinator, sid, setup.member_ids["teacher5"], False)

    _vote(app, setup, sid, _FIVE_FOR)
    assert _ballot(app, setup, alternate, sid, "affirm").status_code == 204
    # One seat is open, and the alternate seated first fills it.
    later = _ballot(app, setup, second, sid, "affirm")
    assert later.status_code == 409
    assert "alternate" in later.json["errors"]["_schema"][0]

    decided = _close(app, setup, sid)
    assert decided["tally"] == {"affirm": 6, "reject": 2}
    assert decided["tally_by_constituency"]["teachers"] == {"affirm": 5, "reject": 0}
    assert (decided["outcome"], decided["option"], decided["decided_by"]) == (
        "decided",
        "affirm",
        "rule",
    )


def test_when_the_member_returns_before_the_close_the_alternates_ballot_does_not_count(
    app, toledo_panel, make_user
):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    alternate, alternate_id = _seat_alternate(app, setup, coordinator, make_user, "alt@toledo.org")
    _mark(coordinator, sid, alternate_id, True)
    _mark(coordinator, sid, setup.member_ids["teacher5"], False)
    _vote(app, setup, sid, _FIVE_FOR)
    assert _ballot(app, setup, alternate, sid, "affirm").status_code == 204

    _mark(coordinator, sid, setup.member_ids["teacher5"], True)  # back before the close
    closed = _close(app, setup, sid)
    # Eligibility is the close's: the alternate no longer fills a seat, so five votes for
    # affirm fall short of six and the configuration's rule (the recommendation) decides.
    assert closed["tally"] == {"affirm": 5, "reject": 2}
    assert closed["decided_by"] == "ct_recommendation_stands"
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        item = db.session.execute(
            select(AgendaItem).where(AgendaItem.case_id == setup.case_id)
        ).scalar_one()
        assert any(str(alternate_id) in r and "sat as an alternate" in r for r in item.reasons), (
            item.reasons
        )
        # Standing by is not a recusal: nothing is written down for the alternate.
        recorded = db.session.execute(
            select(Recusal.member_id).where(Recusal.item_id == item.id)
        ).scalars()
        assert set(recorded) == {setup.member_ids["admin4"]}


def test_the_balance_counts_alternates_apart_from_the_members(app, toledo_panel, make_user):
    setup = toledo_panel
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    _seat_alternate(app, setup, coordinator, make_user, "alt@toledo.org")
    listed = coordinator.get("/panel-members").json
    # Five members fill the five teachers' seats; the alternate is not a sixth.
    assert not [b for b in listed["balance"] if b.startswith("Teachers")], listed["balance"]
    assert sorted(m["alternate"] for m in listed["items"]) == [False] * 9 + [True]

    made_alternate = coordinator.post(
        "/panel-members",
        json={
            "user_id": setup.members["teacher5"].id,
            "constituency": "teachers",
            "alternate": True,
        },
    )
    assert made_alternate.status_code == 201, made_alternate.json
    balance = coordinator.get("/panel-members").json["balance"]
    assert "Teachers (Toledo Federation of Teachers): 4 members for 5 seats, 2 alternates." in (
        balance
    )
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        saved = db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "panel.member_saved")
            .order_by(AuditEvent.seq.desc())
        ).scalars()
        assert next(saved).after["alternate"] is True


def test_an_alternate_cannot_chair(app, toledo_panel, make_user):
    setup = toledo_panel
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    user = make_user(setup.district.tenant, "panel_member", email="alt@toledo.org")
    refused = coordinator.post(
        "/panel-members",
        json={"user_id": user.id, "constituency": "teachers", "is_chair": True, "alternate": True},
    )
    assert refused.status_code == 422
    assert "An alternate cannot chair" in refused.json["errors"]["is_chair"][0]

    browser = Browser(app, setup.district, setup.district.people["coordinator"])
    page = browser.get("/panel/")
    assert 'name="is_alternate"' in page.text
    assert "votes only when a member of the same constituency is absent or recused" in page.text
    response = browser.post(
        "/panel/",
        "/panel/members",
        {
            "user_id": str(user.id),
            "constituency": "teachers",
            "is_chair": "y",
            "is_alternate": "y",
        },
        follow_redirects=True,
    )
    assert "An alternate cannot chair" in response.text
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        seat = db.session.execute(
            select(PanelMember).where(PanelMember.user_id == user.id)
        ).scalar_one_or_none()
        assert seat is None

    seated = browser.post(
        "/panel/",
        "/panel/members",
        {"user_id": str(user.id), "constituency": "teachers", "is_alternate": "y"},
        follow_redirects=True,
    )
    assert "Panel member saved." in seated.text
    assert '<span class="tag">alternate</span>' in seated.text
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        seat = db.session.execute(
            select(PanelMember).where(PanelMember.user_id == user.id)
        ).scalar_one()
        assert (seat.is_alternate, seat.is_chair) == (True, False)


def test_the_minutes_name_the_alternate_who_sat_in(app, toledo_panel, make_user):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    _, alternate_id = _seat_alternate(app, setup, coordinator, make_user, "alt@toledo.org")
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        db.session.get(PanelMember, alternate_id).user.name = "Alex Alternate"
        db.session.commit()
    _mark(coordinator, sid, alternate_id, True)
    _mark(coordinator, sid, setup.member_ids["teacher5"], False)
    page = (
        Browser(app, setup.district, setup.district.people["coordinator"])
        .get(f"/panel/sessions/{sid}/minutes")
        .text
    )
    present = next(line for line in page.splitlines() if "Present:" in line)
    assert "Alex Alternate (alternate)" in present
    absent = next(line for line in page.splitlines() if "Absent:" in line)
    assert "(alternate)" not in absent
