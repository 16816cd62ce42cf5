"""What the panel must never allow: packets without a seat, votes on one's own case,
decisions taken around the vote, and the public form rewriting someone's account."""

from __future__ import annotations

from datetime import date

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import panel
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api
from tests.factories import csrf_token


def _agenda(app, setup) -> int:
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        session = panel.sessions.schedule(date.today(), None, Actor.system())
        panel.sessions.add_to_agenda(session, db.session.get(Case, setup.case_id), Actor.system())
        uow.commit()
        return session.id


def test_the_panel_member_role_without_a_seat_reads_no_packet(app, toledo_panel, make_user):
    _agenda(app, toledo_panel)
    unseated = make_user(toledo_panel.district.tenant, "panel_member", email="x@toledo.org")
    api = Api(app, toledo_panel.district, unseated)
    assert api.get(f"/cases/{toledo_panel.case_id}").status_code == 404
    assert api.get(f"/cases/{toledo_panel.case_id}/evidence").status_code == 404


def test_a_seated_member_reads_the_packet_but_not_the_ct_notes(app, toledo_panel):
    _agenda(app, toledo_panel)
    api = Api(app, toledo_panel.district, toledo_panel.members["teacher2"])
    assert api.get(f"/cases/{toledo_panel.case_id}/evidence").status_code == 200
    visits = api.get(f"/cases/{toledo_panel.case_id}/visits").json["items"]
    assert visits and all(v["notes"] is None for v in visits)


def test_a_member_is_always_recused_from_their_own_case(app, toledo_panel):
    setup = toledo_panel
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        case.teacher_id = setup.members["teacher3"].id
        uow.commit()
    sid = _agenda(app, setup)
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    recused = coordinator.get(f"/panel-sessions/{sid}").json["items"][0]["recused"]
    assert {"member_id": setup.member_ids["teacher3"], "rule": "own_case"} in recused


def test_the_teacher_never_gets_the_recommendation_from_the_api(app, toledo_panel):
    api = Api(app, toledo_panel.district, toledo_panel.teacher)
    body = api.get(f"/cases/{toledo_panel.case_id}").json
    assert "recommended_rating" not in body and "final_rating" not in body
    staff = Api(app, toledo_panel.district, toledo_panel.district.people["coordinator"])
    assert staff.get(f"/cases/{toledo_panel.case_id}").json["recommended_rating"] == (
        "unsatisfactory"
    )


def test_panel_and_final_steps_cannot_be_taken_as_plain_actions(app, toledo_panel):
    setup = toledo_panel
    coordinator = Api(app, setup.district, setup.district.people["coordinator"])
    refused = coordinator.post(
        f"/cases/{setup.case_id}/transitions",
        json={"action": "panel_decides", "payload": {"rating": "x"}},
    )
    assert refused.status_code == 409
    assert "panel's vote" in refused.json["errors"]["action"][0]


def test_a_recommendation_outside_its_step_is_refused(app, toledo_panel):
    ct = Api(app, toledo_panel.district, toledo_panel.district.people["ct"])
    response = ct.post(
        f"/cases/{toledo_panel.case_id}/recommendation",
        json={"rating": "satisfactory", "rationale": "A change of mind, late."},
    )
    assert response.status_code == 409
    with app.app_context(), tenant_scope(toledo_panel.district.tenant.id):
        assert db.session.get(Case, toledo_panel.case_id).recommended_rating == "unsatisfactory"


def test_the_public_form_never_changes_an_existing_account(app, toledo_panel):
    setup = toledo_panel
    admin4 = setup.members["admin4"]
    client = app.test_client()
    page = client.get("/t/toledo/enroll")
    response = client.post(
        "/t/toledo/enroll",
        data={
            "name": "Someone",
            "email": admin4.email,
            "school": "Elsewhere High",
            "track": "intervention",
            "letter": "Please.",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 422
    assert "This address cannot enroll through this form" in response.text
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        from sqlalchemy import select

        from app.models.case import Case

        assert not db.session.execute(select(Case).where(Case.teacher_id == admin4.id)).first()
        after = db.session.get(User, admin4.id)
        assert after.school == "Lincoln Elementary"
        assert after.roles == frozenset({"panel_member"})
