"""A district's program configuration: one editable draft and numbered, frozen versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow

DRAFT = "draft"
PUBLISHED = "published"


class WorkflowVersion(TenantScoped, db.Model):
    """The document as the admin wrote it. Published rows are never changed again:
    a case keeps pointing at the version it started under."""

    __tablename__ = "workflow_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        tenant_key("published_by_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 1, 2, 3 ... once published; None while this row is the draft.
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    #: Loaded only when read: a version comes with every case (joined), and its document,
    #: the largest value of a district, is parsed once per version by ``config_of``.
    document: Mapped[dict] = mapped_column(JSON, deferred=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column()

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def label(self) -> str:
        return f"version {self.number}" if self.number else "draft"
