"""Running one outbox message: the entry point of every RQ job.

Idempotent because RQ delivers at least once: a message already done is
skipped, and each handler guards its own side effect (mail records what it sent).
"""

from __future__ import annotations

from flask import current_app, has_app_context

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

    with all_tenants():
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            return "missing"
        if message.status == "done":
            return "already done"
        message.attempts += 1
        job, payload, tenant_id = message.job, dict(message.payload), message.tenant_id
        db.session.commit()
    try:
        if tenant_id is None:
            with all_tenants():
                JOBS[job](payload, message_id)
        else:
            with tenant_scope(tenant_id):
                JOBS[job](payload, message_id)
        _finish(message_id, None)
    except Exception as exc:
        db.session.rollback()
        _finish(message_id, f"{type(exc).__name__}: {exc}")
        current_app.logger.warning("job %s (%s) failed: %s", message_id, job, exc)
        raise
    return "done"


def _finish(message_id: str, error: str | None) -> None:
    with all_tenants():
        message = db.session.get(OutboxMessage, message_id)
        if error is None:
            message.status = "done"
            message.completed_at = utcnow()
            message.last_error = None
        else:
            message.last_error = error[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
        db.session.commit()
