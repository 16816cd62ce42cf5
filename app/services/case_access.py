"""Which cases a person may see: the whole program, or only the cases they are part of.

A case someone may not see is "not found" (404), never "forbidden": a 403 would
confirm that it exists.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services.errors import NotFound

#: Roles that oversee the whole program and see every case of the district.
PROGRAM_WIDE = frozenset({"program_admin", "coordinator", "committee_member", "final_authority"})


def visible_cases(user: User) -> Select:
    """The cases ``user`` may see, as a query to filter, sort and page further."""
    query = select(Case)
    if user.roles & PROGRAM_WIDE:
        return query
    # A principal sees only review-track cases of their school, as the track shares them.
    as_principal = and_(Case.principal_id == user.id, Case.principal_can_see.is_(True))
    seen = [Case.teacher_id == user.id, Case.ct_id == user.id, as_principal]
    if "panel_member" in user.roles:
        seen.append(Case.id.in_(_packets_for(user)))
    return query.where(or_(*seen))


def _packets_for(user: User) -> Select:
    """Cases on the agenda of a session the member sits on (a seat whose term covers the
    session's date), never a case they are recused from on any agenda."""
    from app.models.panel import AgendaItem, PanelMember, PanelSession, Recusal

    seat = select(PanelMember).where(PanelMember.user_id == user.id).subquery()
    recused_cases = (
        select(AgendaItem.case_id)
        .join(Recusal, Recusal.item_id == AgendaItem.id)
        .join(seat, seat.c.id == Recusal.member_id)
    )
    return (
        select(AgendaItem.case_id)
        .join(PanelSession, PanelSession.id == AgendaItem.session_id)
        .join(
            seat,
            and_(
                or_(seat.c.term_start.is_(None), seat.c.term_start <= PanelSession.meets_on),
                or_(seat.c.term_end.is_(None), seat.c.term_end >= PanelSession.meets_on),
            ),
        )
        .where(AgendaItem.case_id.not_in(recused_cases))
    )


def has_packet(case: Case, user: User) -> bool:
    """Whether a panel member reads this case's packet (see ``_packets_for``)."""
    if "panel_member" not in user.roles:
        return False
    return (
        db.session.execute(
            select(Case.id).where(Case.id == case.id, Case.id.in_(_packets_for(user)))
        ).first()
        is not None
    )


def visible_case(case_id: int, user: User) -> Case:
    case = db.session.execute(visible_cases(user).where(Case.id == case_id)).scalar_one_or_none()
    if case is None:
        raise NotFound({"case": ["Not found."]})
    return case
