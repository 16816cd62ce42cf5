"""What a district's OneRoster bundle is matched by: the roles its program admin mapped, and
which account each of the district's people (by their ``sourcedId``) is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow


class OneRosterRoleMapping(TenantScoped, db.Model):
    """One OneRoster role (``teacher``, ``principal``...) and the Parley role it grants.

    A role with no row grants nothing: an import only ever grants what the program admin
    named here, and the service refuses to name ``program_admin`` or ``final_authority``.
    """

    __tablename__ = "oneroster_role_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "source_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_role: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OneRosterPerson(TenantScoped, db.Model):
    """The district system's never-reassigned ``sourcedId`` of a person, linked to their
    account at their first import: later imports find them by it even when their e-mail
    address changed, so a re-import updates instead of adding someone twice."""

    __tablename__ = "oneroster_people"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sourced_id"),
        UniqueConstraint("tenant_id", "user_id"),
        tenant_key("user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column()
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
