"""Which cases a person may see: the whole program, or only the cases they are part of.

A case someone may not see is "not found" (404), never "forbidden": a 403 would
confirm that it exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.models.workflow import WorkflowVersion
from app.security.roles import PROGRAM_STAFF
from app.services.errors import NotFound
from app.tenants.scoping import scoped


def visible_cases(user: User) -> Select:
    """The cases ``user`` may see, as a query to filter, sort and page further."""
    query = select(Case)
    if user.roles & PROGRAM_STAFF:
        return query
    seen = _cases_of_their_own(user.id)
    if "panel_member" in user.roles:
        seen.append(Case.id.in_(_packets_for(user)))
    return query.where(or_(*seen))


def _cases_of_their_own(user_id) -> list[ColumnElement[bool]]:
    """The cases someone sees as their teacher, their CT or their school's principal;
    ``user_id`` a value or a bound parameter."""
    return [Case.teacher_id == user_id, Case.ct_id == user_id, seen_as_principal(user_id)]


def seen_as_principal(user_id: Any) -> ColumnElement[bool]:
    """The cases someone sees as the principal of the case's school: those whose track
    shares something with the principal (``case_permissions.principal_sees``, stored on
    the case when it opens); ``user_id`` a value or a bound parameter."""
    return and_(Case.principal_id == user_id, Case.principal_can_see.is_(True))


def _packets_for(user: User) -> Select:
    """Cases whose packet a panel member reads: the query form of the panel's eligibility
    rules (``panel.eligibility.packet_case_ids``), so lists and the case page agree; and
    cases under an appeal they may decide as a member of the appeal panel (who did not sit
    on the decision: ``appeal_panel.panel_case_ids``)."""
    from app.services.appeal_panel import panel_case_ids
    from app.services.panel.eligibility import packet_case_ids

    return packet_case_ids(user).union(panel_case_ids(user))


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
    """The case, with its deadlines, in one statement; or NotFound.

    The version's document is left unread: a case runs under a published version, whose
    configuration ``workflow_config.config_of`` keeps once parsed, so every case page read
    and decoded the whole document for nothing. The statement is built once for program
    staff and for someone who is not on the panel (``_CASE_FOR_STAFF``, ``_CASE_OF_THEIR_OWN``:
    the same rules as ``visible_cases``); a panel member's, whose packets follow the panel's
    rules, is built for the request.
    """
    if user.roles & PROGRAM_STAFF:
        statement = _CASE_FOR_STAFF
    elif "panel_member" not in user.roles:
        statement = _CASE_OF_THEIR_OWN
    else:
        statement = visible_cases(user).where(_CASE_ID).options(*_WITH_DEADLINES)
    values = {"case_id": case_id, "user_id": user.id}
    case = db.session.execute(statement, values).unique().scalar_one_or_none()
    if case is None:
        raise NotFound({"case": ["Not found."]})
    return case


_CASE_ID = Case.id == bindparam("case_id")
_WITH_DEADLINES = (
    joinedload(Case.deadlines),
    joinedload(Case.workflow_version).defer(WorkflowVersion.document),
)
_CASE_FOR_STAFF = scoped(select(Case).where(_CASE_ID).options(*_WITH_DEADLINES))
_CASE_OF_THEIR_OWN = scoped(
    select(Case)
    .where(_CASE_ID, or_(*_cases_of_their_own(bindparam("user_id"))))
    .options(*_WITH_DEADLINES)
)
