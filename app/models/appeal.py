"""Appeals of approved decisions, and the district calendar of days that are not working days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.user import User

#: An appeal's states: filed, then granted or denied by its body.
FILED, GRANTED, DENIED = "filed", "granted", "denied"


class ClosedDay(TenantScoped, db.Model):
    """A weekday the district is closed (a holiday, a break): it is not a working day, so
    windows counted in working days (an appeal's) pass over it. Weekends need no row."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Appeal(TenantScoped, db.Model):
    """The teacher's appeal of the approved decision on their case: one per case.

    ``body`` is copied from the track's configuration when the appeal is filed, so the
    appeal is decided by the body it was filed with even if the program changes.
    """

    __tablename__ = "appeals"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("filed_by_id", "users"),
        tenant_key("decided_by_id", "users"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column()
    filed_by_id: Mapped[int] = mapped_column()
    grounds: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The window's last day, as it stood when the appeal was filed.
    closes_on: Mapped[date] = mapped_column(Date)
    #: final_authority, appeal_panel or arbiter.
    body: Mapped[str] = mapped_column(String(20))
    #: filed -> granted | denied
    status: Mapped[str] = mapped_column(String(20), default=FILED)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who decided (the final authority) or recorded the decision (the coordinator).
    decided_by_id: Mapped[int | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    #: The outside arbiter's name, where an arbiter decided.
    arbiter_name: Mapped[str | None] = mapped_column(String(200))
    #: The decision in words, naming the rule that decided it (an appeal panel's).
    decision_words: Mapped[str | None] = mapped_column(Text)

    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class AppealVote(TenantScoped, db.Model):
    """One appeal panel member's vote (grant or deny); a member may change it until the
    coordinator closes the vote."""

    __tablename__ = "appeal_votes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "appeal_id", "user_id"),
        tenant_key("appeal_id", "appeals", ondelete="CASCADE"),
        tenant_key("user_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column()
    vote: Mapped[str] = mapped_column(String(10))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppealReminder(TenantScoped, db.Model):
    """That the teacher was reminded the window to appeal is closing: at most one per case,
    so the reminder job may run any number of times."""

    __tablename__ = "appeal_reminders"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column()
    closes_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
