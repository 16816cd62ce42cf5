"""The consulting-teacher roster: terms, caseload limits, where they work, their training."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.user import User


class ConsultingTeacher(TenantScoped, db.Model):
    """A CT's profile; the person is a ``User`` with the ``consulting_teacher`` role."""

    __tablename__ = "consulting_teachers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        tenant_key("user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column()
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    caseload_limit: Mapped[int] = mapped_column(default=12)
    home_school: Mapped[str | None] = mapped_column(String(200))
    schools: Mapped[list] = mapped_column(JSON, default=list)
    subjects: Mapped[list] = mapped_column(JSON, default=list)
    grades: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    trainings: Mapped[list[TrainingRecord]] = relationship(
        foreign_keys="TrainingRecord.consulting_teacher_id",
        back_populates="consulting_teacher",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="TrainingRecord.attended_on",
    )

    def in_term(self, today: date) -> bool:
        return (self.term_start is None or self.term_start <= today) and (
            self.term_end is None or today <= self.term_end
        )


class TrainingRecord(TenantScoped, db.Model):
    """A workshop a CT attended (e.g. Boston's "Foundations of Mentoring")."""

    __tablename__ = "training_records"
    __table_args__ = (
        tenant_key("consulting_teacher_id", "consulting_teachers", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consulting_teacher_id: Mapped[int] = mapped_column(index=True)
    workshop: Mapped[str] = mapped_column(String(200))
    attended_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Numeric(5, 1))

    consulting_teacher: Mapped[ConsultingTeacher] = relationship(
        foreign_keys=[consulting_teacher_id], back_populates="trainings"
    )
