"""Adding outbox rows: the only way code asks for background work."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.models.outbox import OutboxMessage

_PENDING_KEY = "parley_outbox_ids"


def add(job: str, payload: dict, *, tenant_id: int | None, queue: str = "default") -> OutboxMessage:
    """Record a job to run once the current transaction commits.

    ``payload`` carries ids only: the job reads what it needs under its tenant.
    """
    from app.jobs.registry import JOBS

    if job not in JOBS:
        raise KeyError(f"unknown job {job!r}")
    message = OutboxMessage(
        id=str(uuid.uuid4()), tenant_id=tenant_id, job=job, queue=queue, payload=payload
    )
    db.session.add(message)
    db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


def take_pending_ids() -> list[str]:
    """The ids added in the unit of work that just ended, forgetting them."""
    return db.session.info.pop(_PENDING_KEY, [])


def forget_pending_ids() -> None:
    db.session.info.pop(_PENDING_KEY, None)
