"""Participant surveys: a round sent for a school year, personal links, anonymous answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow


class SurveyRound(TenantScoped, db.Model):
    """One survey sent for one school year; its questions are copied so answers keep meaning."""

    __tablename__ = "survey_rounds"
    __table_args__ = (UniqueConstraint("tenant_id", "survey_key", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_key: Mapped[str] = mapped_column(String(64))
    year: Mapped[str] = mapped_column(String(9))
    title: Mapped[str] = mapped_column(String(200))
    scale: Mapped[list] = mapped_column(JSON)
    statements: Mapped[list] = mapped_column(JSON)  # [[key, text], ...]
    comment_question: Mapped[str | None] = mapped_column(Text)
    #: How many were asked (invitations, or the number a district reports for an import).
    sent: Mapped[int] = mapped_column(Integer, default=0)
    closes_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SurveyInvitation(TenantScoped, db.Model):
    """A personal, single-use link. Only a hash of it is kept; the answer never points back."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "round_id", "user_id"),
        tenant_key("round_id", "survey_rounds", ondelete="CASCADE"),
        tenant_key("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column()
    #: A random value the link is derived from with the app's secret (so a job can mail it
    #: again on retry) and the hash the link is looked up by.
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(Date)
    #: Used or not, and nothing more: no date or time that could be matched to an answer.
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_on: Mapped[date | None] = mapped_column(Date)


class SurveyResponse(TenantScoped, db.Model):
    """Answers without identity: random id, the day only, nothing that names the respondent."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "round_id", "external_id"),
        tenant_key("round_id", "survey_rounds", ondelete="CASCADE"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    round_id: Mapped[int] = mapped_column(index=True)
    submitted_on: Mapped[date] = mapped_column(Date)
    answers: Mapped[dict] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    #: The district's own id for an imported answer (re-imports update it); None for links.
    external_id: Mapped[str | None] = mapped_column(String(100))
