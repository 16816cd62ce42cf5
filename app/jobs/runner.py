"""Running one outbox message: the entry point of every RQ job.

Idempotent because RQ delivers at least once: a run first claims its row
(pending/enqueued -> running) in one UPDATE, so a second delivery of the same
message finds it taken and stops; each handler also guards its own side effect
(mail records what it sent to whom).
"""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import case, update

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.outbox import OutboxMessage
from app.tenants.context import all_tenants, tenant_scope

#: Matches RQ's retry policy (one attempt plus four retries); then the row is marked failed.
MAX_ATTEMPTS = 5


def run_message(message_id: str) -> str:
    """Run the message's handler under its tenant; returns what happened, for the logs."""
    if not has_app_context():
        from app.jobs.worker import worker_app

        with worker_app().app_context():
            return run_message(message_id)
    from app.jobs.registry import JOBS

    claimed = _claim(message_id)
    if claimed is None:
        return "not runnable (done, running elsewhere, or missing)"
    job, payload, tenant_id = claimed
    try:
        with _scope_of(tenant_id):
            JOBS[job](payload, message_id)
        _finish(message_id, tenant_id, None)
    except Exception as exc:
        uow.rollback()  # files the handler stored go with its rows
        _finish(message_id, tenant_id, f"{type(exc).__name__}: {exc}")
        current_app.logger.warning("job %s (%s) failed: %s", message_id, job, exc)
        raise
    return "done"


def _claim(message_id: str) -> tuple[str, dict, int | None] | None:
    """Mark the message running, atomically: a second delivery finds it taken and stops."""
    with all_tenants():
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status.in_(("pending", "enqueued")),
            )
            .values(status="running", attempts=OutboxMessage.attempts + 1, started_at=utcnow())
            .returning(OutboxMessage.job, OutboxMessage.payload, OutboxMessage.tenant_id)
        ).first()
        db.session.commit()
    return None if claimed is None else (claimed[0], dict(claimed[1]), claimed[2])


def _scope_of(tenant_id: int | None):
    """A district's job runs as that district; a platform job across districts."""
    return all_tenants() if tenant_id is None else tenant_scope(tenant_id)


def _finish(message_id: str, tenant_id: int | None, error: str | None) -> None:
    # Under the job's own scope: a district's row is visible to its district, so the
    # handler's work and the row's status commit in one transaction on one connection.
    if error is None:
        values = {"status": "done", "completed_at": utcnow(), "last_error": None}
    else:
        # Runnable again: RQ's retry runs "enqueued" rows; inline mode's sweep, "pending" ones.
        retry_status = "enqueued" if current_app.config.get("REDIS_URL") else "pending"
        values = {
            "status": case((OutboxMessage.attempts >= MAX_ATTEMPTS, "failed"), else_=retry_status),
            "last_error": error[:2000],
        }
    with _scope_of(tenant_id):
        # One statement, no read first: the claim already counted this attempt.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        # The handler's work commits with its row's status, through the unit of work: what
        # it asked for in the outbox is relayed, and files it replaced are deleted only now.
        uow.commit()
