"""The end of a unit of work: commit once, then hand the outbox to the relay."""

from __future__ import annotations

from app.extensions import db
from app.jobs import outbox

_STORED_KEY = "parley_stored_files"


def remove_on_rollback(tenant_id: int, key: str) -> None:
    """A file stored during this unit of work is deleted again if the work rolls back."""
    db.session.info.setdefault(_STORED_KEY, []).append((tenant_id, key))


def commit() -> None:
    """Commit the session; the outbox rows it carried are relayed after the commit.

    The relay runs after the commit on purpose: a job must never see (or send
    mail about) a change that was rolled back.
    """
    db.session.commit()
    db.session.info.pop(_STORED_KEY, None)
    ids = outbox.take_pending_ids()
    if ids:
        from app.jobs.relay import relay

        relay(ids)


def rollback() -> None:
    db.session.rollback()
    outbox.forget_pending_ids()
    stored = db.session.info.pop(_STORED_KEY, [])
    if stored:
        from flask import current_app

        from app.services.storage import storage_for

        store = storage_for(current_app)
        for tenant_id, key in stored:
            store.delete(tenant_id, key)
