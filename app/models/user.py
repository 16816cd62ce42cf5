"""People: tenant users with their roles and API tokens, and platform users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow

#: The columns only signing in (and the account's own page) reads, loaded together when one
#: of them is read. A person comes with every case they are on (its teacher, CT, principal),
#: so the rest of the portal no longer carries password hashes in every case's rows.
SIGN_IN = {"deferred": True, "deferred_group": "sign_in"}


class User(TenantScoped, db.Model):
    """A person in one district. E-mail is unique within the tenant only."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "sso_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    #: The identity provider's never-reassigned ``sub`` for this person, linked at their first
    #: single sign-on: later sign-ins match it, so an address handed to someone else is refused.
    sso_subject: Mapped[str | None] = mapped_column(String(255), **SIGN_IN)
    name: Mapped[str] = mapped_column(String(200))
    #: The school a teacher or principal works in (matches cases to their principal).
    school: Mapped[str | None] = mapped_column(String(200))
    #: The language this person chose to read the portal and their mail in (None: not chosen).
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(String(255), **SIGN_IN)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped whenever sessions and tokens must end at once (disable, role removed, password).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), **SIGN_IN)
    #: Failed password sign-ins since the last success; enough of them lock the account.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, **SIGN_IN)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), **SIGN_IN)

    role_grants: Mapped[list[RoleGrant]] = relationship(
        foreign_keys="RoleGrant.user_id",
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="select",
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(grant.role for grant in self.role_grants)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RoleGrant(TenantScoped, db.Model):
    """One role held by one user; a person may hold several."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "role"),
        tenant_key("user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], back_populates="role_grants")


class ApiToken(TenantScoped, db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        tenant_key("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PasswordReset(TenantScoped, db.Model):
    """A single-use, expiring link to choose a new password; only its SHA-256 is stored."""

    __tablename__ = "password_resets"
    __table_args__ = (
        tenant_key("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    #: Set by the job that mails the link, so the plain token never rests in the outbox.
    token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PlatformUser(db.Model):
    """An operator or network analyst: belongs to no tenant and sees inside none."""

    __tablename__ = "platform_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.role})
