"""Assigning a consulting teacher: proposal, the committee's consensus, history.

Where a track's transitions ask for ``committee_consensus``, a proposal waits
for the committee; elsewhere the coordinator's proposal takes effect at once.
Consensus means no member objects and a majority of the committee approves.
Reassignment ends the current assignment and keeps it in the history.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.core import outbox
from app.extensions import db
from app.models.assignment import Assignment, AssignmentReview
from app.models.base import utcnow
from app.models.case import Case
from app.models.user import User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.services.people import holders


def needs_consensus(case: Case) -> bool:
    """Whether a step of the case's track waits for the committee's consensus (the
    configuration says so; a proposal then waits for the committee)."""
    return configs.config_of(case.workflow_version).tracks[case.track_key].needs_committee_consensus


def of_case(case: Case, assignment_id: int) -> Assignment | None:
    """One of the case's assignments, by the id a URL names (another case's is None)."""
    return db.session.execute(
        select(Assignment).where(Assignment.id == assignment_id, Assignment.case_id == case.id)
    ).scalar_one_or_none()


def history(case: Case) -> list[Assignment]:
    return list(
        db.session.execute(
            select(Assignment).where(Assignment.case_id == case.id).order_by(Assignment.id.desc())
        ).scalars()
    )


def pending(case: Case) -> Assignment | None:
    return db.session.execute(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.status == "proposed")
    ).scalar_one_or_none()


def current(case: Case) -> Assignment | None:
    return db.session.execute(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.status == "active")
    ).scalar_one_or_none()


def propose(case: Case, ct: User, coordinator: User, reason: str | None = None) -> Assignment:
    """Propose ``ct`` for ``case``; takes effect now unless the committee must agree."""
    from app.services.case_permissions import require
    from app.services.cases import ensure_open

    require(case, coordinator, roles=("coordinator",), what="assign a CT")
    ensure_open(case)
    if "consulting_teacher" not in ct.roles:
        raise ValidationFailed({"ct_id": [f"{ct.name} is not a consulting teacher."]})
    if case.ct_id == ct.id:
        raise Conflict({"ct_id": [f"{ct.name} is already this case's consulting teacher."]})
    from app.services.roster import suggestions

    ranked = next((s for s in suggestions(case) if s.ct_id == ct.id), None)
    if ranked is None or not ranked.eligible:
        why = "; ".join(ranked.reasons) if ranked else "not on the roster"
        raise ValidationFailed({"ct_id": [f"{ct.name} cannot take this case: {why}."]})
    earlier = pending(case)
    if earlier is not None:
        earlier.status, earlier.ended_at = "withdrawn", utcnow()
    assignment = Assignment(
        tenant_id=case.tenant_id,
        case_id=case.id,
        ct_id=ct.id,
        proposed_by_id=coordinator.id,
        reason=reason,
    )
    assignment.committee_size = _committee_size()
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "assignment.proposed",
        "case",
        case.id,
        after={"ct_id": ct.id, "assignment_id": assignment.id},
        actor=Actor.of(coordinator),
    )
    if needs_consensus(case):
        outbox.case_notice(case.id, case.tenant_id, "assignment_review", ["committee_member"])
    else:
        _activate(case, assignment, coordinator)
    return assignment


def review(assignment: Assignment, member: User, approve: bool, comment: str | None) -> Assignment:
    """A committee member approves or objects; consensus activates the assignment."""
    from app.services.case_permissions import require
    from app.services.cases import ensure_open

    case = db.session.get(Case, assignment.case_id)
    require(case, member, roles=("committee_member",), what="review an assignment")
    if assignment.status != "proposed":
        raise Conflict({"assignment": ["This proposal is no longer open for review."]})
    ensure_open(db.session.get(Case, assignment.case_id))
    if not approve and not (comment or "").strip():
        raise ValidationFailed({"comment": ["Say why you object, so the coordinator can act."]})
    answer = next((r for r in assignment.reviews if r.member_id == member.id), None)
    if answer is None:
        answer = AssignmentReview(
            tenant_id=assignment.tenant_id,
            member_id=member.id,
            approve=approve,
            assignment=assignment,
        )
        db.session.add(answer)
    answer.approve, answer.comment, answer.answered_at = approve, comment, utcnow()
    db.session.flush()
    case = db.session.get(Case, assignment.case_id)
    audit.record(
        assignment.tenant_id,
        "assignment.reviewed",
        "case",
        case.id,
        after={"assignment_id": assignment.id, "approve": approve},
        actor=Actor.of(member),
    )
    if _consensus(assignment):
        _activate(case, assignment, member)
    return assignment


def _committee_size() -> int:
    return db.session.execute(
        select(func.count()).select_from(holders("committee_member").subquery())
    ).scalar_one()


def _consensus(assignment: Assignment) -> bool:
    approvals = sum(1 for r in assignment.reviews if r.approve)
    objections = sum(1 for r in assignment.reviews if not r.approve)
    size = (
        assignment.committee_size if assignment.committee_size is not None else (_committee_size())
    )
    return objections == 0 and approvals > 0 and approvals * 2 > size


def has_consensus(case: Case) -> bool:
    """The guard's fact: the case's current assignment was agreed by the committee."""
    active = current(case)
    return active is not None and _consensus(active)


def _activate(case: Case, assignment: Assignment, by: User) -> None:
    previous = current(case)
    if previous is not None:
        previous.status, previous.ended_at = "ended", utcnow()
    assignment.status, assignment.started_at = "active", utcnow()
    case.ct_id = assignment.ct_id
    case.started_on = case.started_on or assignment.started_at.date()
    db.session.flush()
    audit.record(
        case.tenant_id,
        "assignment.activated",
        "case",
        case.id,
        before={"ct_id": previous.ct_id if previous else None},
        after={"ct_id": assignment.ct_id},
        actor=Actor.of(by),
    )
    if previous is None:
        from app.services.support import schedule_introduction

        schedule_introduction(case, by)
