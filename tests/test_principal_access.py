"""The principal of a case's school sees it exactly when its track's configuration shares
something with the principal, and then only the sections it shares; the track's kind and
whether the principal is a secondary evaluator do not decide it."""

from __future__ import annotations

import re

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import support
from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from app.workflows.presets import load_preset
from tests.casework import Api, Browser

LETTER = "Two unsatisfactory observations this year; the teacher needs a structured plan."


@pytest.fixture
def montgomery(app, district, make_user):
    """Montgomery's underperforming (review) track shares goals, evidence and the
    recommendation with the principal, who is not a secondary evaluator there."""
    d = district("montgomery", "montgomery")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="lee@montgomery.org")
    return d


def _refer(app, d, principal: User, track: str, school: str = "Lincoln Elementary") -> int:
    """The principal refers a teacher through the referral form, as in the product."""
    referrer = Browser(app, d, principal)
    response = referrer.post(
        "/refer",
        "/refer",
        {
            "name": "Lee Veteran",
            "email": d.people["teacher"].email,
            "school": school,
            "track": track,
            "latest_rating": "below_standard",
            "source": "principal",
            "letter": LETTER,
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(d.tenant.id):
        case_id = db.session.execute(db.select(db.func.max(Case.id))).scalar_one()
        case = db.session.get(Case, case_id)
        assert case.referred_by_id == principal.id
        return case_id


def _support_record(app, d, case_id: int) -> None:
    """The CT's goal, evidence and a visit with notes on the case."""
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        ct = db.session.get(User, d.people["ct"].id)
        case.ct_id, case.state = ct.id, "support"
        support.add_goal(case, ct, "Plan lessons with clear objectives")
        support.add_evidence(case, ct, "Lesson plan portfolio", ["knows_subjects"], None)
        support.log_visit(
            case,
            ct,
            support.VisitInput("informal_visit", case.enrolled_on, 30, notes="Private visit note"),
        )
        uow.commit()


def _listed(html: str) -> set[int]:
    return {int(n) for n in re.findall(r"/cases/(\d+)\"", html)}


def test_a_principal_sees_the_case_they_referred_when_the_track_shares_it(app, montgomery):
    d = montgomery
    case_id = _refer(app, d, d.people["principal"], "underperforming")
    _support_record(app, d, case_id)
    principal = Browser(app, d, d.people["principal"])

    assert case_id in _listed(principal.get("/cases/").text)
    home = principal.get("/").text  # the portal's home, naming the teacher
    assert case_id in _listed(home)
    school = home.split('id="school-heading"', 1)[1].split("</section>", 1)[0]
    assert d.people["teacher"].name in school
    page = principal.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "Plan lessons with clear objectives" in page.text  # goals: shared
    assert "Lesson plan portfolio" in page.text  # evidence: shared
    assert 'id="rec-heading"' in page.text  # the recommendation: shared
    assert "Visits and meetings" not in page.text  # the visit summary is not shared here
    assert "Private visit note" not in page.text and LETTER not in page.text

    api = Api(app, d, d.people["principal"])
    assert [c["id"] for c in api.get("/cases").json["items"]] == [case_id]
    assert api.get(f"/cases/{case_id}").status_code == 200
    assert api.get(f"/cases/{case_id}/visits").status_code == 404


def test_a_principal_sees_a_case_on_any_kind_of_track_that_shares_it(app, montgomery, make_case):
    d = montgomery
    case = make_case(d.tenant, d.people["teacher"], "novice")  # induction, shares status reports
    with app.app_context(), tenant_scope(d.tenant.id):
        db.session.get(Case, case.id).principal_id = d.people["principal"].id
        uow.commit()
    _support_record(app, d, case.id)
    principal = Browser(app, d, d.people["principal"])
    assert case.id in _listed(principal.get("/cases/").text)
    page = principal.get(f"/cases/{case.id}").text
    assert 'id="rec-heading"' in page
    assert "Plan lessons with clear objectives" not in page  # goals are not shared on novice
    assert "Lesson plan portfolio" not in page


def test_a_track_that_shares_nothing_keeps_the_case_from_the_principal(app, montgomery):
    d = montgomery
    document = load_preset("montgomery")
    document["tracks"]["underperforming"]["shared_with_principal"] = []
    with app.app_context(), tenant_scope(d.tenant.id):
        configs.save_draft(document)
        configs.publish(note="nothing shared with the principal")
        uow.commit()
    case_id = _refer(app, d, d.people["principal"], "underperforming")
    _support_record(app, d, case_id)

    principal = Browser(app, d, d.people["principal"])
    assert principal.get(f"/cases/{case_id}").status_code == 404
    assert case_id not in _listed(principal.get("/cases/").text)
    assert case_id not in _listed(principal.get("/").text)
    api = Api(app, d, d.people["principal"])
    assert api.get("/cases").json["total"] == 0
    assert api.get(f"/cases/{case_id}").status_code == 404


def test_referring_a_teacher_of_another_school_shows_the_case_to_that_schools_principal(
    app, montgomery, make_user
):
    d = montgomery
    elsewhere = make_user(d.tenant, "principal", email="principal2@montgomery.org")
    with app.app_context(), tenant_scope(d.tenant.id):
        db.session.get(User, elsewhere.id).school = "Jefferson Middle"
        uow.commit()
    case_id = _refer(app, d, elsewhere, "underperforming")
    assert Browser(app, d, elsewhere).get(f"/cases/{case_id}").status_code == 404
    assert Browser(app, d, d.people["principal"]).get(f"/cases/{case_id}").status_code == 200


def test_sharing_only_participation_shows_the_case_and_nothing_of_its_record(
    app, district, make_user, make_case
):
    d = district("boston", "boston_esp")  # PA (assistance) shares only participation
    teacher = make_user(d.tenant, "teacher", email="pat@boston.org")
    case = make_case(d.tenant, teacher, "pa", latest_rating="needs_improvement")
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.get(Case, case.id)
        ct = db.session.get(User, d.people["ct"].id)
        row.ct_id, row.principal_id, row.state = ct.id, d.people["principal"].id, "support"
        support.add_goal(row, ct, "Calmer transitions between activities")
        support.log_visit(
            row, ct, support.VisitInput("coaching", row.enrolled_on, 30, notes="Coaching note")
        )
        uow.commit()
    principal = Browser(app, d, d.people["principal"])
    assert case.id in _listed(principal.get("/cases/").text)
    page = principal.get(f"/cases/{case.id}").text
    assert "Calmer transitions" not in page and "Coaching note" not in page
    assert "Visits and meetings" not in page and 'id="evidence-heading"' not in page
    api = Api(app, d, d.people["principal"])
    for record in ("visits", "evidence"):
        assert api.get(f"/cases/{case.id}/{record}").status_code == 404
    added = api.post(f"/cases/{case.id}/evidence", data={"text": "A note for the file"})
    assert added.status_code == 403  # seeing that a teacher takes part gives no right to add


def test_a_principal_who_is_not_a_secondary_evaluator_reads_evidence_but_adds_none(app, montgomery):
    d = montgomery
    case_id = _refer(app, d, d.people["principal"], "underperforming")
    _support_record(app, d, case_id)
    principal = Browser(app, d, d.people["principal"])
    page = principal.get(f"/cases/{case_id}").text
    assert "Lesson plan portfolio" in page and "Add evidence" not in page
    api = Api(app, d, d.people["principal"])
    assert api.get(f"/cases/{case_id}/evidence").status_code == 200
    added = api.post(f"/cases/{case_id}/evidence", data={"text": "My own observation"})
    assert added.status_code == 403
