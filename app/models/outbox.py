"""Outbox rows: the notifications and jobs a state change causes, committed with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "enqueued", "running", "done", "failed")


class OutboxMessage(db.Model):
    """A job to run after commit. Its id (or its batch's, ``job_id``) is the RQ job id, so
    the row outlives the queue.

    Not tenant-scoped: the relay is a platform process that reads every tenant's
    rows. The payload holds ids only, never personnel data; the job sets the
    tenant from ``tenant_id`` before it touches anything.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    job: Mapped[str] = mapped_column(String(120))
    queue: Mapped[str] = mapped_column(String(40), default="default")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The queue job that carries this row when it shares one (the id of its batch's first
    #: row, see ``app.jobs.relay``); empty when the row is its own job.
    batch_id: Mapped[str | None] = mapped_column(String(36))

    @property
    def job_id(self) -> str:
        """The id of the queue job that runs this row."""
        return self.batch_id or self.id


class SentMail(TenantScoped, db.Model):
    """One message the SMTP server accepted for one recipient of one outbox message.

    Written and committed the moment the server accepts the message, before the next
    recipient is tried, so a job run again after a crash skips everyone recorded here:
    a crash can repeat at most the one message it interrupted, and that one carries the
    same ``message_id``. The district's own record (who was told what, when), so it is
    scoped to the district like its other rows.
    """

    __tablename__ = "sent_mails"
    __table_args__ = (UniqueConstraint("tenant_id", "outbox_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[str] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(254))
    #: The ``Message-ID`` header it went out with (``mailer.message_id_for``).
    message_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
