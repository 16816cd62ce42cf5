"""A case: one teacher in one track for one cycle, moved only by the workflow engine."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.user import User
from app.models.workflow import WorkflowVersion


class Case(TenantScoped, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        tenant_key("workflow_version_id", "workflow_versions"),
        tenant_key("teacher_id", "users"),
        tenant_key("ct_id", "users"),
        tenant_key("principal_id", "users"),
        tenant_key("referred_by_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_version_id: Mapped[int] = mapped_column(index=True)
    track_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64), index=True)
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    teacher_id: Mapped[int] = mapped_column(index=True)
    ct_id: Mapped[int | None] = mapped_column(index=True)
    principal_id: Mapped[int | None] = mapped_column(index=True)
    school: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(120))
    grade: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str | None] = mapped_column(String(60))
    #: The teacher's request in their own words (Boston's program began with a letter).
    request_letter: Mapped[str | None] = mapped_column(Text)
    #: "self", "principal" or "union": who opened the door.
    source: Mapped[str] = mapped_column(String(20), default="self")
    referred_by_id: Mapped[int | None] = mapped_column()
    years_of_service: Mapped[int | None] = mapped_column()
    permanent_status: Mapped[bool | None] = mapped_column()
    enrolled_on: Mapped[date] = mapped_column(Date)
    #: When support began (the CT's assignment) and ended (closing): what reports count.
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    #: The district's own id for a case brought in from its records (re-imports update it).
    external_id: Mapped[str | None] = mapped_column(String(100))
    latest_rating: Mapped[str | None] = mapped_column(String(64))
    recommended_rating: Mapped[str | None] = mapped_column(String(64))
    panel_rating: Mapped[str | None] = mapped_column(String(64))
    final_rating: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    report_group: Mapped[str | None] = mapped_column(String(64))
    panel_review_open: Mapped[bool] = mapped_column(default=False)
    #: Set from the track when the case opens (``case_permissions.principal_sees``): the
    #: school's principal sees the case when the track shares anything with them.
    principal_can_see: Mapped[bool] = mapped_column(default=False)
    #: The latest word from the program to the teacher (a decline reason, a question).
    status_note: Mapped[str | None] = mapped_column(Text)
    status_note_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)
    #: A list's next deadline of the case, read in the list's own statement
    #: (``case_lists.WITH_NEXT_DEADLINE``); None when the case has none ahead, or when the
    #: statement that loaded the case did not ask for it.
    next_due_on: Mapped[date | None] = query_expression()
    #: That deadline's ``moved_from``.
    next_due_moved_from: Mapped[date | None] = query_expression()

    workflow_version: Mapped[WorkflowVersion] = relationship(
        foreign_keys=[workflow_version_id], lazy="joined"
    )
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id], lazy="joined")
    ct: Mapped[User | None] = relationship(foreign_keys=[ct_id], lazy="joined")
    principal: Mapped[User | None] = relationship(foreign_keys=[principal_id], lazy="joined")
    #: Read when asked for: most pages that load cases (a teacher's home, a panel's agenda,
    #: a principal's list) show none of them, and a list shows only each case's next one
    #: (``next_due_on``).
    deadlines: Mapped[list[CaseDeadline]] = relationship(
        foreign_keys="CaseDeadline.case_id",
        back_populates="case",
        cascade="all, delete-orphan",
        lazy="select",
    )


class CaseDeadline(TenantScoped, db.Model):
    """A dated obligation scheduled by the workflow (e.g. the recommendation's due date)."""

    __tablename__ = "case_deadlines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "key"),
        tenant_key("case_id", "cases", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    key: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date)
    #: The date the configuration gave, when it was already past on the day the deadline
    #: was scheduled and ``due_on`` was moved forward instead (never skipped in silence).
    moved_from: Mapped[date | None] = mapped_column(Date)
    #: When the reminder went out; a deadline is reminded once (moving it resets this).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(foreign_keys=[case_id], back_populates="deadlines")
