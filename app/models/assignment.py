"""Who coaches a case: proposals, the committee's reviews, and the history of assignments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.user import User

#: proposed -> active (consensus or coordinator alone) -> ended (reassignment or closing);
#: proposed -> withdrawn (the coordinator proposes someone else).
ASSIGNMENT_STATUSES = ("proposed", "active", "ended", "withdrawn")


class Assignment(TenantScoped, db.Model):
    __tablename__ = "assignments"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("ct_id", "users"),
        tenant_key("proposed_by_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    ct_id: Mapped[int] = mapped_column(index=True)
    proposed_by_id: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    reason: Mapped[str | None] = mapped_column(Text)
    #: The committee's size when the proposal was made: consensus is judged against it, so a
    #: member joining later does not undo an agreement already reached.
    committee_size: Mapped[int | None] = mapped_column()
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ct: Mapped[User] = relationship(foreign_keys=[ct_id], lazy="joined")
    reviews: Mapped[list[AssignmentReview]] = relationship(
        foreign_keys="AssignmentReview.assignment_id",
        back_populates="assignment",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class AssignmentReview(TenantScoped, db.Model):
    """A committee member's answer to a proposed assignment."""

    __tablename__ = "assignment_reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "assignment_id", "member_id"),
        tenant_key("assignment_id", "assignments", ondelete="CASCADE"),
        tenant_key("member_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column()
    approve: Mapped[bool] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assignment: Mapped[Assignment] = relationship(
        foreign_keys=[assignment_id], back_populates="reviews"
    )
    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="joined")
