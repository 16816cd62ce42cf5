"""Decision integrity on the panel: who may vote and see is decided when they act, ballots
have no default, the decision sentence says what happened, co-chairs chair, and the final
approval offers only what it accepts. Each test drives the pages or the API."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser


def _session(app, setup, *, present=True) -> int:
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    sid = coordinator.post("/panel-sessions", json={"meets_on": date.today().isoformat()}).json[
        "id"
    ]
    added = coordinator.post(f"/panel-sessions/{sid}/agenda", json={"case_id": setup.case_id})
    assert added.status_code == 201, added.json
    if present:
        for member_id in setup.member_ids.values():
            coordinator.post(
                f"/panel-sessions/{sid}/attendance", json={"member_id": member_id, "present": True}
            )
    return sid


def _ballot(app, setup, user, sid, option):
    return Api(app, setup.district, user).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": option}
    )


def _seat_late(admin: Api, coordinator: Api, user: User, side: str, sid: int) -> int:
    """After the case is on the agenda: the admin grants the panel role, the coordinator
    seats the person and marks them present (all through the API)."""
    current = admin.get(f"/users/{user.id}").json["roles"]
    granted = admin.client.put(
        f"/api/v1/t/{admin.slug}/users/{user.id}/roles",
        json={"roles": sorted({*current, "panel_member"})},
        headers=admin.headers,
    )
    assert granted.status_code == 200, granted.json
    seated = coordinator.post(
        "/panel-members", json={"user_id": user.id, "constituency": side, "is_chair": False}
    )
    assert seated.status_code == 201, seated.json
    member_id = seated.json["id"]
    marked = coordinator.post(
        f"/panel-sessions/{sid}/attendance", json={"member_id": member_id, "present": True}
    )
    assert marked.status_code == 200, marked.json
    return member_id


def test_parties_seated_after_the_agenda_cannot_vote_on_their_own_case(app, toledo_panel):
    """Finding 1: the case's teacher, principal and CT, seated afterwards, are refused."""
    setup = toledo_panel
    sid = _session(app, setup)
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        case.principal_id = setup.district.people["principal"].id
        uow.commit()
    parties = {
        "teacher": (setup.teacher, "teachers", "the teacher the case is about"),
        "principal": (setup.district.people["principal"], "administrators", "principal"),
        "ct": (setup.district.people["ct"], "teachers", "consulting teacher"),
    }
    admin = Api(app, setup.district, setup.district.people["admin"])
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    for user, side, words in parties.values():
        member_id = _seat_late(admin, coordinator, user, side, sid)
        refused = _ballot(app, setup, user, sid, "reject")
        assert refused.status_code == 409, refused.json
        assert words in refused.json["errors"]["_schema"][0]
        session = coordinator.get(f"/panel-sessions/{sid}")
        recused = {r["member_id"] for r in session.json["items"][0]["recused"]}
        assert member_id in recused
    # Their seats do not count toward the rule: six honest votes still decide.
    for key in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        assert _ballot(app, setup, setup.members[key], sid, "affirm").status_code == 204
    closed = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    assert closed.json["items"][0]["tally"] == {"affirm": 6, "reject": 0}


def test_a_ballot_counts_only_if_its_member_is_eligible_at_the_close(app, toledo_panel):
    """Finding 1's sibling: a member who voted and then lost the panel role, or declared
    a conflict, or gave evidence on the case, is not counted."""
    setup = toledo_panel
    sid = _session(app, setup)
    for key in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        assert _ballot(app, setup, setup.members[key], sid, "affirm").status_code == 204
    admin = Api(app, setup.district, setup.district.people["admin"])
    revoked = admin.client.put(
        f"/api/v1/t/{setup.district.slug}/users/{setup.members['teacher5'].id}/roles",
        json={"roles": ["teacher"]},
        headers=admin.headers,
    )
    assert revoked.status_code == 200, revoked.json
    closed = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    item = closed.json["items"][0]
    assert item["tally"] == {"affirm": 5, "reject": 0}
    # 5 of 9 is short of 6: Toledo's rule for that case lets the recommendation stand.
    assert item["decided_by"] == "ct_recommendation_stands"


def test_a_member_without_a_seat_sees_no_agenda_tally_or_count(app, toledo_panel, make_user):
    """Finding 3: the panel-member role without a seat shows nothing of any session."""
    setup = toledo_panel
    sid = _session(app, setup)
    for key in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        _ballot(app, setup, setup.members[key], sid, "affirm")
    Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    unseated = make_user(setup.district.tenant, "panel_member", email="waiting@toledo.org")
    teacher_name = setup.teacher.name
    api = Api(app, setup.district, unseated)
    one = api.get(f"/panel-sessions/{sid}").json
    assert one["items"] == [] and one["present"] == []
    assert api.get("/panel-sessions").json["items"] == []
    assert teacher_name not in api.get(f"/cases/{setup.case_id}").text
    browser = Browser(app, setup.district, unseated)
    for path in (f"/panel/sessions/{sid}", f"/panel/sessions/{sid}/minutes", "/panel/"):
        page = browser.get(path).text
        assert teacher_name not in page, path
        assert "affirm" not in page.lower(), path
    assert "You do not hold a seat" in browser.get(f"/panel/sessions/{sid}").text
    # A seat whose term ended before the session is no seat either.
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        from app.models.panel import PanelMember

        member = db.session.get(PanelMember, setup.member_ids["teacher2"])
        member.term_end = date.today() - timedelta(days=1)
        uow.commit()
    former = Api(app, setup.district, setup.members["teacher2"])
    assert former.get(f"/panel-sessions/{sid}").json["items"] == []


def test_the_ballot_starts_empty_and_a_change_is_announced(app, toledo_panel):
    """Finding 5 (ballot): no default, the member's current ballot shown, a change said."""
    setup = toledo_panel
    sid = _session(app, setup)
    member = Browser(app, setup.district, setup.members["teacher2"])
    page = member.get(f"/panel/sessions/{sid}").text
    select = re.search(r'<select[^>]*name="item\d+-option".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>", select)
    assert options[0] == '<option value="">' and not any("selected" in o for o in options)
    assert "Abstain" in select and "Affirm the consulting teacher" in select
    path = f"/panel/sessions/{sid}/cases/{setup.case_id}/ballot"
    prefix = re.search(r'name="(item\d+)-option"', page).group(1)
    empty = member.post(
        f"/panel/sessions/{sid}", path, {f"{prefix}-option": ""}, follow_redirects=True
    )
    assert "Choose your vote, or Abstain: nothing was recorded." in empty.text
    assert 'data-testid="ballot-count">0<' in empty.text
    first = member.post(
        f"/panel/sessions/{sid}", path, {f"{prefix}-option": "affirm"}, follow_redirects=True
    )
    assert "Your ballot is in: Affirm the consulting teacher" in first.text
    assert re.search(r'data-testid="my-ballot">Your ballot: <strong>Affirm', first.text)
    changed = member.post(
        f"/panel/sessions/{sid}", path, {f"{prefix}-option": "abstain"}, follow_redirects=True
    )
    assert (
        "You changed your ballot from Affirm the consulting teacher&#39;s recommendation "
        "to Abstain." in changed.text
    )
    # Another member's page never shows this member's ballot.
    other = Browser(app, setup.district, setup.members["teacher3"]).get(f"/panel/sessions/{sid}")
    assert "my-ballot" not in other.text


def test_five_to_three_of_nine_is_not_called_a_tie(app, toledo_panel):
    """Finding 7: Toledo 5-3 with 6 of 9 needed says why the recommendation stands."""
    setup = toledo_panel
    sid = _session(app, setup)
    votes = {
        "teacher1": "affirm",
        "teacher2": "affirm",
        "teacher3": "affirm",
        "teacher4": "affirm",
        "teacher5": "affirm",
        "admin1": "reject",
        "admin2": "reject",
        "admin3": "reject",
    }
    for key, option in votes.items():
        assert _ballot(app, setup, setup.members[key], sid, option).status_code == 204
    closed = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    item = closed.json["items"][0]
    assert "tie" not in item["rule_text"].lower()
    assert (
        "No option reached 6 of 9; the configuration's rule when no option reaches it: "
        "the consulting teacher's recommendation stands." in item["rule_text"]
    )
    assert item["decision"] == (
        "Decided: Affirm the consulting teacher's recommendation "
        "(the consulting teacher's recommendation stands)"
    )
    page = Browser(app, setup.district, setup.district.people["coordinator"]).get(
        f"/panel/sessions/{sid}"
    )
    assert "(the consulting teacher&#39;s recommendation stands)" in page.text


def test_every_co_chair_may_close_the_vote(app, toledo_panel):
    """Finding 8: Toledo names co-chairs; the administrators' co-chair closes too."""
    setup = toledo_panel
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    saved = coordinator.post(
        "/panel-members",
        json={
            "user_id": setup.members["admin1"].id,
            "constituency": "administrators",
            "is_chair": True,
        },
    )
    assert saved.status_code == 201, saved.json
    sid = _session(app, setup)
    for key in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        _ballot(app, setup, setup.members[key], sid, "affirm")
    not_chair = Api(app, setup.district, setup.members["admin2"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    assert not_chair.status_code == 409
    for key in ("admin1", "teacher1"):
        page = Browser(app, setup.district, setup.members[key]).get(f"/panel/sessions/{sid}")
        assert "Close the vote" in page.text, key
    assert "Close the vote" not in (
        Browser(app, setup.district, setup.members["admin2"]).get(f"/panel/sessions/{sid}").text
    )
    # The teachers' co-chair is not "the first chair found" (the administrators' is).
    closed = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["items"][0]["outcome"] == "decided"


def test_the_final_approval_offers_only_outcomes_it_accepts(app, awaiting_approval):
    """Finding 8: Rochester's approval listed Resigned and Retired, then refused them."""
    waiting = awaiting_approval("rochester", "rochester", "intervention", "unsatisfactory")
    rochester, authority, case_id = waiting.district, waiting.authority, waiting.case_id
    desk = Browser(app, rochester, authority)
    page = desk.get("/panel/approvals").text
    form = re.search(rf'data-testid="approval-{case_id}".*?</form>', page, re.S).group(0)
    outcome = re.search(r'<select[^>]*name="case\d+-outcome".*?</select>', form, re.S).group(0)
    offered = re.findall(r'<option[^>]*value="([^"]*)"', outcome)
    assert offered == ["", "returned_to_good_standing", "dismissal_recommended"]
    decision = re.search(r'<select[^>]*name="case\d+-decision".*?</select>', form, re.S).group(0)
    options = re.findall(r"<option[^>]*>", decision)
    assert options[0] == '<option value="">' and not any("selected" in o for o in options)
    path = f"/panel/approvals/{case_id}"
    prefix = f"case{case_id}"
    refused = desk.post(
        "/panel/approvals",
        path,
        {f"{prefix}-decision": "approve", f"{prefix}-outcome": "retired"},
        follow_redirects=True,
    )
    assert "Not a valid choice" in refused.text
    no_outcome = desk.post(
        "/panel/approvals", path, {f"{prefix}-decision": "approve"}, follow_redirects=True
    )
    assert "Choose the outcome that closes the case." in no_outcome.text
    api = Api(app, rochester, authority)
    wrong = api.post(f"/cases/{case_id}/approvals", json={"approve": True, "outcome": "retired"})
    assert wrong.status_code == 422
    assert "Returned to good standing" in wrong.json["errors"]["outcome"][0]
    with app.app_context(), tenant_scope(rochester.tenant.id):
        assert db.session.get(Case, case_id).state == "final_approval"
    approved = desk.post(
        "/panel/approvals",
        path,
        {f"{prefix}-decision": "approve", f"{prefix}-outcome": "returned_to_good_standing"},
        follow_redirects=True,
    )
    assert "Decision recorded." in approved.text
    with app.app_context(), tenant_scope(rochester.tenant.id):
        assert db.session.get(Case, case_id).outcome == "returned_to_good_standing"
