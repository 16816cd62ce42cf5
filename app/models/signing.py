"""District signing keys and acknowledgments of a case's documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow


class SigningKey(TenantScoped, db.Model):
    """A district's key pair and its self-signed certificate, which sign its PDFs.

    The private key is sealed (``app.security.encryption``) and never leaves the
    database in an export or archive; the certificate is public. A district has one
    current key (``retired_at`` empty); retired keys stay so the documents they signed
    still verify as the district's.
    """

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    #: SHA-256 of the certificate (DER), lower-case hex: what a reader compares.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Acknowledgment(TenantScoped, db.Model):
    """One person's typed-name acknowledgment that they received one document of a case.

    ``document`` names the document: "decision", or "status_report:<id>". The statement
    kept is the one the person signed, so a later change of wording never rewrites it.
    """

    __tablename__ = "acknowledgments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "document", "user_id"),
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("user_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column()
    document: Mapped[str] = mapped_column(String(80))
    #: How the person stood to the case when they acknowledged (``case_teacher``...).
    relation: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column()
    typed_name: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
