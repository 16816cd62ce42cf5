"""The joint panel: members, sessions, agenda items, attendance, recusals, ballots, approvals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.case import Case
from app.models.user import User


class PanelMember(TenantScoped, db.Model):
    """A seat holder: which constituency (from the configuration), whether they chair, and
    whether they sit as an alternate (voting only in place of an absent or recused member
    of their constituency)."""

    __tablename__ = "panel_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        tenant_key("user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column()
    constituency: Mapped[str] = mapped_column(String(64))
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    is_alternate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def listed_as(self) -> str:
        """The member as minutes list them: an alternate is named as one, so a reader can
        tell whose vote stood in for an absent or recused member."""
        return f"{self.user.name} (alternate)" if self.is_alternate else self.user.name

    def serves_on(self, day: date) -> bool:
        return (self.term_start is None or self.term_start <= day) and (
            self.term_end is None or day <= self.term_end
        )


class PanelSession(TenantScoped, db.Model):
    __tablename__ = "panel_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meets_on: Mapped[date] = mapped_column(Date, index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    #: scheduled -> closed (every agenda item decided, deferred or withdrawn)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    minutes_key: Mapped[str | None] = mapped_column(String(200))

    items: Mapped[list[AgendaItem]] = relationship(
        foreign_keys="AgendaItem.session_id",
        back_populates="session",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="AgendaItem.id",
    )
    attendance: Mapped[list[Attendance]] = relationship(
        foreign_keys="Attendance.session_id",
        back_populates="session",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class AgendaItem(TenantScoped, db.Model):
    """One case before one session; the vote on it and, once closed, its decision."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "session_id", "case_id"),
        tenant_key("session_id", "panel_sessions", ondelete="CASCADE"),
        tenant_key("case_id", "cases", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(index=True)
    case_id: Mapped[int] = mapped_column(index=True)
    #: open (ballots may be cast and changed) -> closed
    status: Mapped[str] = mapped_column(String(20), default="open")
    outcome: Mapped[str | None] = mapped_column(String(20))
    option: Mapped[str | None] = mapped_column(String(64))
    tally: Mapped[dict | None] = mapped_column(JSON)
    tally_by_constituency: Mapped[dict | None] = mapped_column(JSON)
    votes_needed: Mapped[int | None] = mapped_column(Integer)
    rule_text: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[list | None] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[PanelSession] = relationship(foreign_keys=[session_id], back_populates="items")
    case: Mapped[Case] = relationship(foreign_keys=[case_id], lazy="joined")
    recusals: Mapped[list[Recusal]] = relationship(
        foreign_keys="Recusal.item_id",
        back_populates="item",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class Attendance(TenantScoped, db.Model):
    __tablename__ = "panel_attendance"
    __table_args__ = (
        UniqueConstraint("tenant_id", "session_id", "member_id"),
        tenant_key("session_id", "panel_sessions", ondelete="CASCADE"),
        tenant_key("member_id", "panel_members", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column()
    present: Mapped[bool] = mapped_column(Boolean, default=True)

    session: Mapped[PanelSession] = relationship(
        foreign_keys=[session_id], back_populates="attendance"
    )


class Recusal(TenantScoped, db.Model):
    """A member who may not vote on an agenda item, and why (a configured rule or a declaration)."""

    __tablename__ = "recusals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_id", "member_id"),
        tenant_key("item_id", "agenda_items", ondelete="CASCADE"),
        tenant_key("member_id", "panel_members", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column()
    rule: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)

    item: Mapped[AgendaItem] = relationship(foreign_keys=[item_id], back_populates="recusals")
    member: Mapped[PanelMember] = relationship(foreign_keys=[member_id], lazy="joined")


class Ballot(TenantScoped, db.Model):
    """Sealed until the chair closes the vote; never shown to the teacher."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_id", "member_id"),
        tenant_key("item_id", "agenda_items", ondelete="CASCADE"),
        tenant_key("member_id", "panel_members", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(index=True)
    member_id: Mapped[int] = mapped_column()
    #: None is an abstention.
    option: Mapped[str | None] = mapped_column(String(64))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FinalDecision(TenantScoped, db.Model):
    """The final authority's approval or return of a panel decision, with a note."""

    __tablename__ = "final_decisions"
    __table_args__ = (
        tenant_key("case_id", "cases", ondelete="CASCADE"),
        tenant_key("item_id", "agenda_items"),
        tenant_key("authority_id", "users"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    item_id: Mapped[int | None] = mapped_column()
    authority_id: Mapped[int] = mapped_column()
    approved: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    authority: Mapped[User] = relationship(foreign_keys=[authority_id], lazy="joined")
