"""The teacher's written response to the approved decision on their case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow


class CaseResponse(TenantScoped, db.Model):
    """One per case: it is kept with the decision and does not change it."""

    __tablename__ = "case_responses"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("author_id", "users"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column()
    author_id: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
