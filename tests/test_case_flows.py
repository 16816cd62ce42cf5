"""Whole cases, start to end, through the pages and through the API, under two presets."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.assignment import Assignment
from app.models.audit import AuditEvent
from app.models.case import Case
from app.tenants.context import tenant_scope
from tests.drivers import DRIVERS


def _case(app, district, case_id) -> Case:
    with app.app_context(), tenant_scope(district.tenant.id):
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def _pending_assignment(app, district, case_id) -> int:
    with app.app_context(), tenant_scope(district.tenant.id):
        return db.session.execute(
            select(Assignment.id).where(
                Assignment.case_id == case_id, Assignment.status == "proposed"
            )
        ).scalar_one()


def _today() -> str:
    # Support began today: a visit dated earlier would be refused, and would not count.
    return date.today().isoformat()


@pytest.mark.parametrize("driver_class", DRIVERS, ids=lambda d: d.name)
def test_a_boston_assistance_case_from_request_to_closing(app, district, driver_class):
    boston = district("boston", "boston_esp")
    p = boston.people
    drive = driver_class(app, boston)
    case_id = drive.enroll(
        {
            "name": "Pat Teacher",
            "email": "pat@boston.org",
            "school": "Lincoln Elementary",
            "track": "pa",
            "latest_rating": "needs_improvement",
            "subject": "Mathematics",
            "letter": "I would like a second set of eyes on my classroom management.",
        }
    )
    assert _case(app, boston, case_id).state == "request"
    for action in ("begin_intake", "accept"):
        ok, body = drive.act(p["coordinator"], case_id, action)
        assert ok, body
    drive.propose(p["coordinator"], case_id, p["ct"].id)
    refused, body = drive.act(p["coordinator"], case_id, "assign_ct")
    assert not refused and "no consulting teacher is assigned yet" in str(body)
    assignment_id = _pending_assignment(app, boston, case_id)
    drive.review(p["committee1"], case_id, assignment_id, approve=True)
    drive.review(p["committee2"], case_id, assignment_id, approve=True)
    assert _case(app, boston, case_id).ct_id == p["ct"].id
    for user, action in ((p["coordinator"], "assign_ct"), (p["ct"], "hold_introduction")):
        ok, body = drive.act(user, case_id, action)
        assert ok, body
    drive.log_visit(p["ct"], case_id, "observation", _today())
    ok, body = drive.act(p["ct"], case_id, "close", outcome="met_standards")
    assert ok, body
    closed = _case(app, boston, case_id)
    assert (closed.state, closed.outcome, closed.report_group) == (
        "closed",
        "met_standards",
        "met_standards",
    )
    assert closed.closed_at is not None


@pytest.mark.parametrize("driver_class", DRIVERS, ids=lambda d: d.name)
def test_a_toledo_intervention_case_reaches_panel_review(app, district, driver_class):
    toledo = district("toledo", "toledo")
    p = toledo.people
    drive = driver_class(app, toledo)
    case_id = drive.enroll(
        {
            "name": "Lee Veteran",
            "email": "lee@toledo.org",
            "school": "Lincoln Elementary",
            "track": "intervention",
            "latest_rating": "unsatisfactory",
            "permanent_status": True,
            "letter": "Referred after an unsatisfactory evaluation; I want the support.",
        }
    )
    for action in ("begin_intake", "accept"):
        ok, body = drive.act(p["coordinator"], case_id, action)
        assert ok, body
    drive.propose(p["coordinator"], case_id, p["ct"].id)  # no committee step in Toledo
    assert _case(app, toledo, case_id).ct_id == p["ct"].id
    ok, body = drive.act(p["coordinator"], case_id, "assign_ct")
    assert ok, body
    ok, body = drive.act(p["ct"], case_id, "hold_introduction")
    assert ok, body
    refused, body = drive.act(p["ct"], case_id, "end_support")
    assert not refused and "8" in str(body) and "observation" in str(body)
    for _ in range(8):
        drive.log_visit(p["ct"], case_id, "observation", _today())
    ok, body = drive.act(p["ct"], case_id, "end_support")
    assert ok, body
    drive.recommend(p["ct"], case_id, "unsatisfactory")
    reached = _case(app, toledo, case_id)
    assert (reached.state, reached.panel_review_open) == ("panel_review", True)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        actions = set(
            db.session.execute(
                select(AuditEvent.action).where(AuditEvent.object_id == str(case_id))
            ).scalars()
        )
    assert {
        "case.opened",
        "assignment.activated",
        "visit.logged",
        "recommendation.submitted",
        "case.submit_recommendation",
    } <= actions


def test_consensus_reached_is_not_undone_by_a_member_joining_later(app, district, make_user):
    from app.core import uow
    from app.services import assignments, cases
    from app.tenants.context import tenant_scope

    boston = district("boston", "boston_esp")
    p = boston.people
    teacher = make_user(boston.tenant, "teacher", email="pat@boston.org")
    with app.app_context(), tenant_scope(boston.tenant.id):
        from app.models.user import User

        case = cases.open_case(
            teacher=db.session.get(User, teacher.id),
            track_key="pa",
            latest_rating="needs_improvement",
        )
        proposal = assignments.propose(
            case, db.session.get(User, p["ct"].id), db.session.get(User, p["coordinator"].id)
        )
        for member in ("committee1", "committee2"):
            assignments.review(proposal, db.session.get(User, p[member].id), True, None)
        uow.commit()
        assert assignments.has_consensus(case)
        case_id = case.id
    make_user(boston.tenant, "committee_member", email="c3@boston.org")
    make_user(boston.tenant, "committee_member", email="c4@boston.org")
    with app.app_context(), tenant_scope(boston.tenant.id):
        assert assignments.has_consensus(db.session.get(Case, case_id))
