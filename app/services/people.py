"""Looking people up by what they do in the district."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.extensions import db
from app.models.user import RoleGrant, User


def holders(*roles: str) -> Select:
    """Active users holding any of ``roles``; with no roles, every active user.

    Scoped to the tenant like every query; callers narrow it further.
    """
    query = select(User).where(User.active.is_(True))
    if roles:
        query = query.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role.in_(roles))))
    return query


def school_principal(school: str, *, other_than: int | None = None) -> User | None:
    """The principal of ``school`` a new case there is linked to (the longest-serving
    account first); ``other_than`` leaves out one who is moving away."""
    query = holders("principal").where(User.school == school)
    if other_than is not None:
        query = query.where(User.id != other_than)
    return db.session.execute(query.order_by(User.id).limit(1)).scalar_one_or_none()
