"""From the outbox to RQ: after each commit, and by the periodic sweep.

The relay claims rows with ``FOR UPDATE SKIP LOCKED`` so two relays never hand
over the same row; the RQ job id is the outbox id, so a row handed over twice
(e.g. the sweep after a lost acknowledgement) is still one job, and the job
itself checks the row before it acts. Without ``REDIS_URL`` jobs run inline.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants

#: A row enqueued this long ago and still not done is looked at again by the sweep.
STALE_AFTER = timedelta(minutes=10)


def relay(ids: list[str] | None = None, *, limit: int = 100) -> int:
    """Hand pending rows (these ``ids``, or the oldest ``limit``) to the queue.

    Returns how many were handed over. A Redis failure leaves them pending.
    """
    if not current_app.config.get("REDIS_URL"):
        return _run_inline(ids, limit)
    from app.jobs.queues import enqueue_message

    handed = 0
    with all_tenants():
        try:
            rows = _claim(ids, limit)
            for row in rows:
                enqueue_message(row)
                row.status = "enqueued"
                row.enqueued_at = utcnow()
                handed += 1
            db.session.commit()
        except Exception as exc:  # Redis down: the rows stay pending for the sweep.
            db.session.rollback()
            current_app.logger.warning("outbox relay deferred: %s", exc)
            return 0
    return handed


def _claim(ids: list[str] | None, limit: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == "pending")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    query = query.order_by(OutboxMessage.created_at).limit(limit)
    return list(db.session.execute(query.with_for_update(skip_locked=True)).scalars())


def _run_inline(ids: list[str] | None, limit: int) -> int:
    from app.jobs.runner import run_message

    with all_tenants():
        rows = _claim(ids, limit)
        pending = [row.id for row in rows]
        db.session.commit()
    for message_id in pending:
        try:
            run_message(message_id)
        except Exception:  # inline mode keeps serving; the row records the error
            current_app.logger.exception("inline job %s failed", message_id)
    return len(pending)


def sweep() -> int:
    """Relay rows the after-commit relay missed, and re-hand rows whose job was lost."""
    _release_stalled()
    if current_app.config.get("REDIS_URL"):
        _requeue_lost()
    return relay()


def _release_stalled() -> None:
    """A run that started long ago and never finished died with its worker: run it again."""
    cutoff = utcnow() - STALE_AFTER
    with all_tenants():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "running", OutboxMessage.started_at < cutoff)
            .values(status="pending")
        )
        db.session.commit()


def _requeue_lost() -> None:
    from app.jobs.queues import job_exists

    cutoff = utcnow() - STALE_AFTER
    with all_tenants():
        try:
            rows = db.session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.status == "enqueued")
                .where(or_(OutboxMessage.enqueued_at.is_(None), OutboxMessage.enqueued_at < cutoff))
                .with_for_update(skip_locked=True)
            ).scalars()
            for row in rows:
                if not job_exists(row.id):
                    row.status = "pending"
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            current_app.logger.warning("outbox sweep could not reach the queue: %s", exc)
