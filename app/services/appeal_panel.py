"""The appeal panel: who may vote on an appeal, and the cases its members may read.

Panel members who did not sit on the decision (no attendance or ballot in the session that
decided it), are not recused from it and are no party to the case vote on the appeal; it
is worked out when they vote and again when the vote closes, from live facts.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, false, func, or_, select

from app.extensions import db
from app.models.appeal import Appeal, AppealVote
from app.models.assignment import Assignment
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import AgendaItem, Attendance, Ballot, FinalDecision, PanelMember, Recusal
from app.models.support import Evidence
from app.models.user import RoleGrant, User
from app.services.panel.eligibility import parties


def appeal_panel(case: Case) -> list[PanelMember]:
    """Members who may vote on the appeal now: seated today (an active account holding the
    panel-member role, a term covering today), no party to the case, not recused from any
    of its agenda items, and not among those who sat on the decision."""
    today = utcnow().date()
    holders = select(RoleGrant.user_id).where(RoleGrant.role == "panel_member")
    roster = db.session.execute(
        select(PanelMember)
        .join(PanelMember.user)
        .where(User.active.is_(True), PanelMember.user_id.in_(holders))
        .order_by(User.name)
    ).scalars()
    sat, recused, party = _sat_on_decision(case), _recused(case), set(parties(case))
    return [
        m
        for m in roster
        if m.serves_on(today) and m.id not in sat and m.id not in recused and m.user_id not in party
    ]


def vote_refusal(case: Case, user: User) -> str | None:
    """Why ``user`` may not vote on the appeal now, in a sentence; None when they may."""
    member = db.session.execute(
        select(PanelMember).where(PanelMember.user_id == user.id)
    ).scalar_one_or_none()
    if member is None or "panel_member" not in user.roles or not member.serves_on(utcnow().date()):
        return "Only a seated panel member votes on an appeal."
    if member.id in _sat_on_decision(case):
        return "You sat on the decision under appeal, so you do not vote on the appeal."
    if user.id in parties(case) or member.id in _recused(case):
        return "You are recused from this case."
    return None


def _deciding_items(case: Case) -> Select:
    """The agenda items whose decisions the final authority approved on this case."""
    return select(FinalDecision.item_id).where(
        FinalDecision.case_id == case.id,
        FinalDecision.approved.is_(True),
        FinalDecision.item_id.is_not(None),
    )


def _sat_on_decision(case: Case) -> set[int]:
    """Member ids present at the session that decided the case, or who cast a ballot on it."""
    items = _deciding_items(case)
    present = select(Attendance.member_id).where(
        Attendance.present.is_(True),
        Attendance.session_id.in_(select(AgendaItem.session_id).where(AgendaItem.id.in_(items))),
    )
    voted = select(Ballot.member_id).where(Ballot.item_id.in_(items))
    return set(db.session.execute(present.union(voted)).scalars())


def _recused(case: Case) -> set[int]:
    return set(
        db.session.execute(
            select(Recusal.member_id)
            .join(AgendaItem, AgendaItem.id == Recusal.item_id)
            .where(AgendaItem.case_id == case.id)
        ).scalars()
    )


def panel_case_ids(user: User) -> Select:
    """Cases under an appeal ``user`` may vote on (or voted on), as one query for the case
    visibility rule: the query form of :func:`appeal_panel` for one member. The vote itself
    checks :func:`vote_refusal` again, on live facts."""
    if "panel_member" not in user.roles or not user.active:
        return select(Appeal.case_id).where(false())
    today = utcnow().date()
    seat = (
        select(PanelMember.id)
        .where(
            PanelMember.user_id == user.id,
            or_(PanelMember.term_start.is_(None), PanelMember.term_start <= today),
            or_(PanelMember.term_end.is_(None), PanelMember.term_end >= today),
        )
        .scalar_subquery()
    )
    approved = FinalDecision.approved.is_(True)
    attended = (
        select(FinalDecision.case_id)
        .join(AgendaItem, AgendaItem.id == FinalDecision.item_id)
        .join(Attendance, Attendance.session_id == AgendaItem.session_id)
        .where(approved, Attendance.present.is_(True), Attendance.member_id == seat)
    )
    balloted = (
        select(FinalDecision.case_id)
        .join(Ballot, Ballot.item_id == FinalDecision.item_id)
        .where(approved, Ballot.member_id == seat)
    )
    recused = (
        select(AgendaItem.case_id)
        .join(Recusal, Recusal.item_id == AgendaItem.id)
        .where(Recusal.member_id == seat)
    )
    party = or_(
        Case.teacher_id == user.id,
        Case.ct_id == user.id,
        Case.principal_id == user.id,
        Case.referred_by_id == user.id,
        exists().where(Evidence.case_id == Case.id, Evidence.author_id == user.id),
        exists().where(
            Assignment.case_id == Case.id,
            Assignment.ct_id == user.id,
            Assignment.started_at.is_not(None),
        ),
    )
    return (
        select(Appeal.case_id)
        .join(Case, Case.id == Appeal.case_id)
        .where(
            Appeal.body == "appeal_panel",
            seat.is_not(None),
            Appeal.case_id.not_in(attended.union(balloted, recused)),
            # A NULL principal or referrer must not make "not a party" unknown.
            ~func.coalesce(party, false()),
        )
    )


def votes_on(appeal: Appeal) -> list[AppealVote]:
    """The votes cast on ``appeal``, in the order they were cast (counted only at the close)."""
    return list(
        db.session.execute(
            select(AppealVote).where(AppealVote.appeal_id == appeal.id).order_by(AppealVote.id)
        ).scalars()
    )
