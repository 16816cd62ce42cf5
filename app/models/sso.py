"""A district's single sign-on settings (its OpenID Connect or SAML 2.0 identity provider),
and the SAML assertions already used to sign in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

#: What happens when someone the identity provider vouches for has no account here.
NEW_USER_POLICIES = ("refuse", "pending")
#: The protocols a district may sign in with; it uses one at a time.
PROTOCOLS = {"oidc": "OpenID Connect", "saml": "SAML 2.0"}


class SsoSettings(TenantScoped, db.Model):
    """One row per district that uses single sign-on.

    The client secret is stored encrypted (``app.security.secrets``): a copy of
    the database alone does not let anyone act as the district's application.
    A SAML district keeps its identity provider's metadata here instead, and its
    ``issuer`` is the provider's entity ID (the ``Issuer`` its assertions name).
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
    #: A key of ``PROTOCOLS``: the one way this district's people sign in through a provider.
    protocol: Mapped[str] = mapped_column(String(10), default="oidc", server_default="oidc")
    #: The SAML identity provider's metadata as the program admin gave it (checked on save).
    saml_idp_metadata: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SamlAssertionUse(TenantScoped, db.Model):
    """A SAML assertion that signed someone in: the same one is refused a second time.

    Kept in the database rather than in Redis so that the use is written in the same
    transaction as the sign-in it allowed (one commits only with the other), behind the
    district's row-level security, and without Redis (which ``make run`` does without).
    The key is a digest of the issuer and the assertion's ID, whatever their length; a
    row is needed only until the assertion expires, and older ones are deleted as new
    ones are written.
    """

    __tablename__ = "saml_assertion_uses"
    __table_args__ = (UniqueConstraint("tenant_id", "assertion_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the issuer's entity ID and the assertion's ID.
    assertion_key: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
