"""Looking people up by what they do in the district."""

from __future__ import annotations

from sqlalchemy import Select, select

from app.models.user import RoleGrant, User


def holders(*roles: str) -> Select:
    """Active users holding any of ``roles``; with no roles, every active user.

    Scoped to the tenant like every query; callers narrow it further.
    """
    query = select(User).where(User.active.is_(True))
    if roles:
        query = query.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role.in_(roles))))
    return query
