"""Running outbox messages: the entry point of every RQ job.

Idempotent because RQ delivers at least once: a run first claims its rows
(pending/enqueued -> running) in one UPDATE, so a second delivery of the same job
finds them taken and stops; each handler also guards its own side effect (mail
records what it sent to whom). A job carries one row or a batch of one queue's rows
(``app.jobs.relay``): each row runs under its own district and commits on its own, so
one row's failure leaves the others done.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from rq.timeouts import JobTimeoutException
from sqlalchemy import bindparam, case, update

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants, current_scope, tenant_scope
from app.tenants.scoping import scoped

#: Matches RQ's retry policy (one attempt plus four retries); then the row is marked failed.
MAX_ATTEMPTS = 5


def run_message(message_id: str) -> str:
    """Run one message (a job of its own, or inline); returns what happened, for the logs."""
    return run_messages([message_id])


def run_messages(message_ids: list[str]) -> str:
    """Run each runnable message of a job, in order, each under its tenant.

    A row that fails is marked for its retry and the rest still run; the job then raises
    the first failure, so RQ retries it later, and the retry finds only the failed rows
    runnable (the done ones stay done).
    """
    if not has_app_context():
        from app.jobs.worker import worker_app

        with worker_app().app_context():
            return run_messages(message_ids)
    claimed = _claim(message_ids)
    if not claimed:
        return "not runnable (done, running elsewhere, or missing)"
    failures: list[Exception] = []
    for message_id, job, payload, tenant_id in claimed:
        try:
            _run(message_id, job, payload, tenant_id)
        except JobTimeoutException:
            # Out of time: the rows not yet run stay running, and the sweep hands them
            # over again once the queue no longer counts this job as started.
            raise
        except Exception as exc:
            failures.append(exc)
    if failures:
        raise failures[0]
    if len(claimed) < len(message_ids):
        return f"done ({len(claimed)} of {len(message_ids)} runnable)"
    return "done"


def _run(message_id: str, job: str, payload: dict, tenant_id: int | None) -> None:
    """The handler, then its row's status, under the row's district: when the handler
    leaves its last write open (a mail's record), the two commit together; a handler that
    fails keeps what it must itself (``app.jobs.mail``) before this rollback."""
    from app.jobs.registry import JOBS

    with _scope_of(tenant_id):
        try:
            JOBS[job](payload, message_id)
        except Exception as exc:
            uow.rollback()  # files the handler stored go with its rows
            _finish(message_id, f"{type(exc).__name__}: {exc}")
            current_app.logger.warning("job %s (%s) failed: %s", message_id, job, exc)
            raise
        _finish(message_id, None)


def _claim(message_ids: list[str]) -> list[tuple[str, str, dict, int | None]]:
    """Mark the messages running, atomically: a second delivery finds them taken and stops.

    Returns the claimed ones as ``(id, job, payload, tenant id)``, in the job's order.
    """
    with all_tenants():
        rows = db.session.execute(_CLAIM, {"ids": message_ids, "now": utcnow()}).all()
        db.session.commit()
    order = {message_id: n for n, message_id in enumerate(message_ids)}
    rows.sort(key=lambda row: order[row[0]])
    return [(row[0], row[1], dict(row[2]), row[3]) for row in rows]


# Every job claims its rows and marks each done: built once, so neither is built again
# and given a new cache key for every notice (the busiest path a worker has).
_CLAIM = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(bindparam("ids", expanding=True)),
        OutboxMessage.status.in_(("pending", "enqueued")),
    )
    .values(status="running", attempts=OutboxMessage.attempts + 1, started_at=bindparam("now"))
    .returning(OutboxMessage.id, OutboxMessage.job, OutboxMessage.payload, OutboxMessage.tenant_id)
)
_DONE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("message_id"))
    .values(status="done", completed_at=bindparam("now"), last_error=None)
    .execution_options(synchronize_session=False)
)
#: ``_DONE`` for a district's job, with the scope the event would otherwise add anew.
_DONE_IN_DISTRICT = scoped(_DONE)


def _scope_of(tenant_id: int | None):
    """A district's job runs as that district; a platform job across districts."""
    return all_tenants() if tenant_id is None else tenant_scope(tenant_id)


def _finish(message_id: str, error: str | None) -> None:
    """Mark the row done, or runnable again after ``error``, under the job's own scope (a
    district's row is visible to its district): the handler's work and the row's status
    commit in one transaction on one connection."""
    # One statement, no read first: the claim already counted this attempt.
    if error is None:
        done = _DONE if current_scope().all_tenants else _DONE_IN_DISTRICT
        db.session.execute(done, {"message_id": message_id, "now": utcnow()})
    else:
        # Runnable again: RQ's retry runs "enqueued" rows; inline mode's sweep, "pending" ones.
        retry_status = "enqueued" if current_app.config.get("REDIS_URL") else "pending"
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status=case((OutboxMessage.attempts >= MAX_ATTEMPTS, "failed"), else_=retry_status),
                last_error=error[:2000],
            )
            .execution_options(synchronize_session=False)
        )
    # The handler's work commits with its row's status, through the unit of work: what
    # it asked for in the outbox is relayed, and files it replaced are deleted only now.
    uow.commit()
