"""A district that words and guards its steps its own way: the services find the
recommendation, the panel's decision and the approval by what the configuration says
they mean, never by their keys or guards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.user import User
from app.services import cases, panel
from app.services import workflow_config as configs
from app.services.cases import TransitionRefused
from app.tenants.context import tenant_scope
from app.workflows import load_preset
from tests.casework import Api
from tests.panelwork import PanelSetup, _to_panel_review, seat_members, session_with_case

RENAMED = {
    "submit_recommendation": "present_case",
    "panel_decides": "board_votes",
    "approve": "sign_off",
}


def _own_words() -> dict:
    """Toledo, with its intervention steps renamed and the panel's step guarded only by the
    recommendation (no ``panel_decided``): nothing a service could recognise by name."""
    document = load_preset("toledo")
    track = document["tracks"]["intervention"]
    for transition in track["transitions"]:
        transition["key"] = RENAMED.get(transition["key"], transition["key"])
        if transition["key"] == "board_votes":
            transition["guards"] = ["has_recommendation"]
    track["steps"].update(
        recommendation="present_case", panel_decision="board_votes", final_approval="sign_off"
    )
    return document


@pytest.fixture
def own_words_panel(app, district, make_user) -> PanelSetup:
    """A Toledo district publishing its own words, 5 + 4 members seated (teacher1 chairs,
    admin4 works at the case's school), and an intervention case in panel review."""
    d = district("ownwords", "toledo")
    teacher = make_user(d.tenant, "teacher", email="lee@ownwords.org")
    authority = make_user(d.tenant, "final_authority", email="supt@ownwords.org")
    members = {f"teacher{n}": f"pt{n}@ownwords.org" for n in range(1, 6)}
    members |= {f"admin{n}": f"pa{n}@ownwords.org" for n in range(1, 5)}
    people = {key: make_user(d.tenant, "panel_member", email=e) for key, e in members.items()}
    with app.app_context(), tenant_scope(d.tenant.id):
        configs.save_draft(_own_words())
        configs.publish(note="our own words")
        uow.commit()
    ids = seat_members(app, d, people)
    case_id = _to_panel_review(app, d, teacher)
    return PanelSetup(d, case_id, people, ids, teacher, authority)


def _actions(app, setup: PanelSetup) -> list[str]:
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        return [e.action for e in events]


def test_the_recommendation_went_by_the_step_the_district_named(app, own_words_panel):
    assert "case.present_case" in _actions(app, own_words_panel)


def test_the_panels_step_is_never_a_plain_action_whatever_its_guards(app, own_words_panel):
    setup = own_words_panel
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        coordinator = db.session.get(User, setup.district.people["coordinator"].id)
        with pytest.raises(TransitionRefused) as refused:
            cases.apply(case, "board_votes", coordinator)
        assert refused.value.errors == {
            "action": ["This step follows the panel's vote; close the vote on the panel page."]
        }
        db.session.rollback()
        assert db.session.get(Case, setup.case_id).state == "panel_review"


def test_the_decision_is_carried_by_the_step_that_means_it(app, own_words_panel):
    setup = own_words_panel
    _, sid = session_with_case(app, setup)
    for key in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1"):
        ballot = Api(app, setup.district, setup.members[key]).post(
            f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": "affirm"}
        )
        assert ballot.status_code == 204, (key, ballot.json)
    chair = Api(app, setup.district, setup.members["teacher1"])
    closed = chair.post(f"/panel-sessions/{sid}/cases/{setup.case_id}/close")
    assert closed.status_code == 200, closed.json
    assert (closed.json["items"][0]["outcome"], closed.json["items"][0]["option"]) == (
        "decided",
        "affirm",
    )

    with app.app_context(), tenant_scope(setup.district.tenant.id):
        assert db.session.get(Case, setup.case_id).state == "final_approval"
        assert [c.id for c in panel.approval.waiting()] == [setup.case_id]
        offered = panel.approval.approval_outcomes(db.session.get(Case, setup.case_id))
        assert [key for key, _ in offered] == ["returned_to_good_standing", "released"]
    approved = Api(app, setup.district, setup.final_authority).post(
        f"/cases/{setup.case_id}/approvals",
        json={"approve": True, "outcome": "released", "note": "Approved as recommended."},
    )
    assert approved.status_code == 200, approved.json
    assert (approved.json["state"], approved.json["outcome"]) == ("closed", "released")
    actions = _actions(app, setup)
    assert actions.index("panel.vote_closed") < actions.index("case.board_votes")
    assert "case.sign_off" in actions
