"""Who a notification's ``to`` names: relations to the case, or roles in the district."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BindParameter, Select, false, or_, select

from app.models.case import Case
from app.models.user import RoleGrant, User
from app.security.roles import TENANT_ROLE_KEYS
from app.services.people import holders

_RELATION_COLUMNS = {
    "case_teacher": "teacher_id",
    "assigned_ct": "ct_id",
    "case_principal": "principal_id",
}


def recipients_query(case_id: int | BindParameter, names: Iterable[str]) -> Select:
    """Active users a notice about case ``case_id`` goes to, each once, in e-mail order.

    A statement, not a list, joined to the case it reads the people from: a mail job
    adds the case's district and whom the message already reached, so one round trip
    answers all of them. No user is listed when the case is not there. ``case_id`` may be
    a bound parameter, for a statement built once."""
    names = set(names)
    columns = [getattr(Case, column) for name, column in _RELATION_COLUMNS.items() if name in names]
    roles = sorted(names & TENANT_ROLE_KEYS)
    # Only the conditions the notice names: an empty ``IN`` (or a subquery that can find
    # nothing) kept PostgreSQL from settling on one plan, and planning the statement anew
    # for every notice cost more than its run.
    named = [User.id == column for column in columns]
    if roles:
        named.append(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role.in_(roles))))
    return (
        holders()
        .join_from(User, Case, Case.id == case_id)
        .where(or_(*named) if named else false())
        .order_by(User.email)
    )
