"""From the outbox to RQ: after each commit, and by the periodic sweep.

The relay claims rows with ``FOR UPDATE SKIP LOCKED`` so two relays never hand
over the same row; the RQ job id is the outbox id, so a row handed over twice
(e.g. the sweep after a lost acknowledgement) is still one job, and the job
itself checks the row before it acts. The sweep also hands over again the jobs
of a worker that died, once RQ's heartbeat shows it (``_release_abandoned``).
Without ``REDIS_URL`` jobs run inline.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants

#: A row enqueued this long ago and still not done is looked at again by the sweep; without
#: Redis, so is a row running this long.
STALE_AFTER = timedelta(minutes=10)


def relay(ids: list[str] | None = None, *, limit: int = 100) -> int:
    """Hand pending rows (these ``ids``, or the oldest ``limit``) to the queue.

    Returns how many were handed over. The rows are claimed and marked enqueued in one
    statement and handed to RQ in one pipelined transaction before the commit, so a
    Redis failure rolls the mark back and leaves them pending.
    """
    if not current_app.config.get("REDIS_URL"):
        return _run_inline(ids, limit)
    from app.jobs.queues import enqueue_messages

    with all_tenants():
        try:
            claimed = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(_pending(ids, limit).scalar_subquery()))
                .values(status="enqueued", enqueued_at=utcnow())
                .returning(OutboxMessage.id, OutboxMessage.queue, OutboxMessage.created_at)
                .execution_options(synchronize_session=False)
            ).all()
            # Oldest first, as claimed: RETURNING follows no order of its own.
            claimed.sort(key=lambda row: row.created_at)
            if claimed:
                enqueue_messages([(row.id, row.queue) for row in claimed])
            db.session.commit()
        except Exception as exc:  # Redis down: the rows stay pending for the sweep.
            db.session.rollback()
            current_app.logger.warning("outbox relay deferred: %s", exc)
            return 0
    return len(claimed)


def _pending(ids: list[str] | None, limit: int):
    """The oldest pending rows (of ``ids``), locked, skipping rows another relay holds."""
    query = select(OutboxMessage.id).where(OutboxMessage.status == "pending")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    query = query.order_by(OutboxMessage.created_at).limit(limit)
    return query.with_for_update(skip_locked=True)


def _run_inline(ids: list[str] | None, limit: int) -> int:
    from app.jobs.runner import run_message

    with all_tenants():
        pending = list(db.session.execute(_pending(ids, limit)).scalars())
        db.session.commit()
    for message_id in pending:
        try:
            run_message(message_id)
        except Exception:  # inline mode keeps serving; the row records the error
            current_app.logger.exception("inline job %s failed", message_id)
    return len(pending)


def sweep() -> int:
    """Relay rows the after-commit relay missed, and re-hand rows whose job was lost."""
    if current_app.config.get("REDIS_URL"):
        _release_abandoned()
        _requeue_lost()
    else:
        _release_stalled()
    return relay()


def _release_abandoned() -> None:
    """Put back the rows whose worker died with their job, as soon as RQ can tell.

    A worker beats for the job it runs (``app.jobs.worker``), which keeps the job's
    entry in RQ's StartedJobRegistry from expiring; an entry that expired lost its
    worker. A running row with no live entry is released (a live worker always holds
    one: RQ adds it before the job claims the row and removes it after the row is
    finished), and so is an enqueued row whose entry expired (its worker died after
    taking the job and before claiming the row). Running rows are locked before the
    registry is read, so a job that starts or ends meanwhile is never taken for lost.
    """
    from app.jobs.queues import forget_started, started_jobs

    with all_tenants():
        try:
            running = _locked(OutboxMessage.status == "running")
            # Every running row's own queue too: this worker may serve fewer queues.
            queues = set(current_app.config["RQ_QUEUES"]) | {row.queue for row in running}
            live, expired = started_jobs(sorted(queues))
            lost = [row for row in running if row.id not in live]
            if expired:
                lost += _locked(
                    OutboxMessage.status == "enqueued", OutboxMessage.id.in_(list(expired))
                )
            released = [row.id for row in lost]
            for row in lost:
                _release(row)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            current_app.logger.warning("outbox sweep could not release lost jobs: %s", exc)
            return
    if released:
        current_app.logger.warning(
            "released %d outbox messages whose worker died: %s",
            len(released),
            ", ".join(released),
        )
        # RQ would otherwise retry them too, when a worker next cleans its registries (it
        # would find them running or done and stop, so this only saves the trip).
        try:
            forget_started([entry for job_id in released for entry in expired.get(job_id, [])])
        except Exception as exc:
            current_app.logger.warning("outbox sweep could not tidy RQ's registry: %s", exc)


def _locked(*conditions) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(*conditions).with_for_update(skip_locked=True)
    return list(db.session.execute(query).scalars())


def _release(row: OutboxMessage) -> None:
    """Runnable again, unless its runs keep killing their worker (then it stays failed)."""
    from app.jobs.runner import MAX_ATTEMPTS

    row.last_error = "the worker running it died (its heartbeat stopped)"
    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"


def _release_stalled() -> None:
    """Without Redis (jobs run inline) there is no heartbeat: a run that started long ago
    and never finished died with its process, so run it again."""
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
