"""The record of support: visits, goals, evidence and the CT's recommendation."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.user import User


class Visit(TenantScoped, db.Model):
    __tablename__ = "visits"
    #: One key, one visit: a form sent twice (a double click, a queue replayed after a
    #: connection came back) stores the visit once.
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("author_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int] = mapped_column(index=True)
    visit_type: Mapped[str] = mapped_column(String(64))
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    focus_standards: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    principal_present: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A meeting on the calendar, not yet logged (e.g. the introduction meeting).
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether the teacher reads the notes and next steps (the date and type always show).
    shared_with_teacher: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Made by the visit form (in the browser, or by the server when the browser runs no
    #: script); empty for visits logged elsewhere (the API, the calendar, imports).
    idempotency_key: Mapped[UUID | None] = mapped_column(Uuid)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")

    #: Why the visit does not count toward the guards (plain words; empty when it counts).
    #: Not stored: ``support.visits`` fills it in from the configuration and the case's dates.
    not_counted_because = ()


class Goal(TenantScoped, db.Model):
    __tablename__ = "goals"
    __table_args__ = (tenant_key("case_id", "cases", ondelete="CASCADE"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Evidence(TenantScoped, db.Model):
    """Evidence for the evaluation, tagged to rubric standards; text, a file, or both."""

    __tablename__ = "evidence"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("author_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int] = mapped_column()
    #: "consulting_teacher" or "principal": whose evidence it is.
    author_role: Mapped[str] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    standards: Mapped[list] = mapped_column(JSON, default=list)
    file_key: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_type: Mapped[str | None] = mapped_column(String(120))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")


class Recommendation(TenantScoped, db.Model):
    """The CT's end-of-cycle recommendation: a rating, the rationale, the evidence behind it."""

    __tablename__ = "recommendations"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("author_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int] = mapped_column()
    rating: Mapped[str] = mapped_column(String(64))
    rationale: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
