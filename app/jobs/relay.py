"""From the outbox to RQ: after each commit, and by the periodic sweep.

The relay claims rows with ``FOR UPDATE SKIP LOCKED`` so two relays never hand
over the same row. Rows of one queue travel together, up to ``RELAY_BATCH`` of them to
one RQ job (a notice's own work costs about what RQ's bookkeeping of a job does); the
job's id is its first row's id, kept on the others as ``batch_id``, so a batch handed
over twice (e.g. the sweep after a lost acknowledgement) is still one job, and the job
claims each row before it acts. The sweep also hands over again the jobs of a worker
that died, once RQ's heartbeat shows it (``_release_abandoned``). Without
``REDIS_URL`` jobs run inline.
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
    statement, grouped into their jobs (``batches``) and handed to RQ in one pipelined
    transaction before the commit, so a Redis failure rolls the mark back and leaves them
    pending.
    """
    if not current_app.config.get("REDIS_URL"):
        return _run_inline(ids, limit)
    from app.jobs.queues import enqueue_batches

    with all_tenants():
        try:
            claimed = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(_pending(ids, limit).scalar_subquery()))
                .values(status="enqueued", enqueued_at=utcnow(), batch_id=None)
                .returning(OutboxMessage.id, OutboxMessage.queue, OutboxMessage.created_at)
                .execution_options(synchronize_session=False)
            ).all()
            # Oldest first, as claimed: RETURNING follows no order of its own.
            claimed.sort(key=lambda row: row.created_at)
            jobs = batches([(row.id, row.queue) for row in claimed])
            for _, batch in jobs:
                if len(batch) > 1:
                    db.session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(batch[1:]))
                        .values(batch_id=batch[0])
                        .execution_options(synchronize_session=False)
                    )
            if jobs:
                enqueue_batches(jobs)
            db.session.commit()
        except Exception as exc:  # Redis down: the rows stay pending for the sweep.
            db.session.rollback()
            current_app.logger.warning("outbox relay deferred: %s", exc)
            return 0
    return len(claimed)


def batches(messages: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """``(id, queue)`` pairs, oldest first, as the jobs that carry them: ``(queue, ids)``.

    Each queue's rows in their order, cut every ``RELAY_BATCH[queue]`` rows (one per job
    for a queue it does not name), so no row waits behind a later one.
    """
    sizes = current_app.config.get("RELAY_BATCH") or {}
    jobs: list[tuple[str, list[str]]] = []
    open_batch: dict[str, list[str]] = {}
    for message_id, name in messages:
        batch = open_batch.get(name)
        if batch is None or len(batch) >= max(1, int(sizes.get(name, 1))):
            batch = open_batch[name] = []
            jobs.append((name, batch))
        batch.append(message_id)
    return jobs


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
            lost = [row for row in running if row.job_id not in live]
            if expired:
                lost += _locked(
                    OutboxMessage.status == "enqueued",
                    or_(
                        OutboxMessage.id.in_(list(expired)),
                        OutboxMessage.batch_id.in_(list(expired)),
                    ),
                )
            released = [row.id for row in lost]
            lost_jobs = {row.job_id for row in lost}
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
            forget_started([entry for job_id in lost_jobs for entry in expired.get(job_id, [])])
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
            exists: dict[str, bool] = {}
            for row in rows:
                if row.job_id not in exists:
                    exists[row.job_id] = job_exists(row.job_id)
                if not exists[row.job_id]:
                    row.status = "pending"
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            current_app.logger.warning("outbox sweep could not reach the queue: %s", exc)
