"""A district's single sign-on settings: its OpenID Connect identity provider."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

#: What happens when someone the identity provider vouches for has no account here.
NEW_USER_POLICIES = ("refuse", "pending")


class SsoSettings(TenantScoped, db.Model):
    """One row per district that uses single sign-on.

    The client secret is stored encrypted (``app.security.secrets``): a copy of
    the database alone does not let anyone act as the district's application.
    """

    __tablename__ = "sso_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Shown on the sign-in button: "Sign in with <label>".
    label: Mapped[str] = mapped_column(String(80), default="your district account")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    #: E-mail domains whose people may sign in this way, lower case, e.g. ["bps.example.org"].
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When false, only single sign-on opens the portal and the API's password exchange.
    passwords_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    new_users: Mapped[str] = mapped_column(String(20), default="refuse")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
