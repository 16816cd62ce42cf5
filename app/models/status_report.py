"""The consulting teacher's status reports to the panel."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.case import Case
from app.models.user import User


class StatusReport(TenantScoped, db.Model):
    """One report due on one case, scheduled from the track's ``status_reports`` rules, and
    once written the CT's signed account of the period.

    A row exists from the day it is scheduled (so it can be reminded, shown as due and
    escalated when missed); the written part is empty until ``submitted_at``. A due date
    already past when the schedule was made is moved, never dropped: ``moved_from`` keeps
    the date the rules gave. ``progress`` holds one entry per standard of the program:
    ``{"standard": key, "rating": key, "meets_standard": bool, "note": str}``, the
    ``meets_standard`` flag copied from the rating scale when written, so the record says
    what the rating meant then.
    """

    __tablename__ = "status_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "label"),
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("for_session_id", "panel_sessions"),
        tenant_key("author_id", "users"),
        tenant_key("session_id", "panel_sessions"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    label: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    moved_from: Mapped[date | None] = mapped_column(Date)
    #: The panel session a before-each-session report is due for.
    for_session_id: Mapped[int | None] = mapped_column()
    author_id: Mapped[int | None] = mapped_column()
    progress: Mapped[list] = mapped_column(JSON, default=list)
    #: The period the report covers: from the previous report (or the start of support)
    #: to its submission; the visits that count, dated in it, are counted when it is sent.
    period_from: Mapped[date | None] = mapped_column(Date)
    visits_since: Mapped[int | None] = mapped_column(Integer)
    concerns: Mapped[str | None] = mapped_column(Text)
    current_view: Mapped[str | None] = mapped_column(Text)
    signed_name: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The panel session it is placed on for reading (the next one scheduled).
    session_id: Mapped[int | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(foreign_keys=[case_id], lazy="joined")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    @property
    def written(self) -> bool:
        return self.submitted_at is not None
