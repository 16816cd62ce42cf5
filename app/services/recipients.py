"""Who a notification's ``to`` names: relations to the case, or roles in the district."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, or_, select

from app.models.case import Case
from app.models.user import RoleGrant, User
from app.security.roles import TENANT_ROLE_KEYS
from app.services.people import holders

_RELATION_COLUMNS = {
    "case_teacher": "teacher_id",
    "assigned_ct": "ct_id",
    "case_principal": "principal_id",
}


def recipients_query(case: Case, names: Iterable[str]) -> Select:
    """Active users a notice goes to, each once, in e-mail order.

    A statement, not a list: a mail job joins to it whom the message already reached,
    so one round trip answers both."""
    names = set(names)
    ids = {getattr(case, column) for name, column in _RELATION_COLUMNS.items() if name in names}
    roles = sorted(names & TENANT_ROLE_KEYS)
    by_role = select(RoleGrant.user_id).where(RoleGrant.role.in_(roles))
    query = holders().where(or_(User.id.in_(ids - {None}), User.id.in_(by_role)))
    return query.order_by(User.email)
