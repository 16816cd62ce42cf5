"""Private calendar feeds: each person's secret feed address, and the revision count of
every row a feed shows, so a calendar app replaces an event when its source changes.

A feed address is a bearer secret in a URL: only its SHA-256 is stored, like an API
token's. A person has at most one live address; making a new one revokes the old.

A calendar app keeps an event by its UID and takes a changed copy only when the copy's
SEQUENCE is higher. The rows a feed shows (visits, panel sessions, deadlines, status
reports, and the case that closes or reopens them) keep no revision of their own, so one
is counted here whenever a field a feed shows changes, by whichever service changes it.
Reading a feed writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow
from app.models.case import Case, CaseDeadline
from app.models.panel import PanelSession
from app.models.status_report import StatusReport
from app.models.support import Visit
from app.models.user import User


class CalendarFeed(TenantScoped, db.Model):
    """One person's feed address; the plain secret is shown once, when it is made."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        tenant_key("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The person's ``session_version`` when it was made: a new password, "sign out
    #: everywhere" or a disabled account ends the address with every session and token.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CalendarRevision(TenantScoped, db.Model):
    """How many times a row a feed shows has changed since it was made, and when last."""

    __tablename__ = "calendar_revisions"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The table's short name (``visit``, ``panel_session``, ``deadline``,
    #: ``status_report``, ``case``) and the row's id.
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


#: Per source model: its short name and the fields a feed shows (a change to any other
#: field, such as a reminder's timestamp, is no change to the event).
TRACKED: Mapping[type, tuple[str, tuple[str, ...]]] = {
    Visit: ("visit", ("visit_type", "visited_on", "planned", "author_id", "duration_minutes")),
    PanelSession: ("panel_session", ("meets_on", "location", "status")),
    CaseDeadline: ("deadline", ("key", "due_on")),
    StatusReport: ("status_report", ("label", "due_on", "submitted_at")),
    Case: ("case", ("closed_at",)),
}


def _changed(target: object, fields: tuple[str, ...]) -> bool:
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _count_revision(mapper, connection, target) -> None:
    source, fields = TRACKED[mapper.class_]
    if not _changed(target, fields):
        return
    table = CalendarRevision.__table__
    where = (
        (table.c.tenant_id == target.tenant_id)
        & (table.c.source == source)
        & (table.c.source_id == target.id)
    )
    now = utcnow()
    # The source row's own UPDATE holds its lock until commit, so two changes of one row
    # count one after the other.
    done = connection.execute(
        table.update().where(where).values(sequence=table.c.sequence + 1, modified_at=now)
    )
    if done.rowcount == 0:
        connection.execute(
            table.insert().values(
                tenant_id=target.tenant_id,
                source=source,
                source_id=target.id,
                sequence=1,
                modified_at=now,
            )
        )


for _model in TRACKED:
    event.listen(_model, "after_update", _count_revision)
