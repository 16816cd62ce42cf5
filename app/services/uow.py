"""The end of a unit of work: commit once, then hand the outbox to the relay."""

from __future__ import annotations

from app.extensions import db
from app.jobs import outbox


def commit() -> None:
    """Commit the session; the outbox rows it carried are relayed after the commit.

    The relay runs after the commit on purpose: a job must never see (or send
    mail about) a change that was rolled back.
    """
    db.session.commit()
    ids = outbox.take_pending_ids()
    if ids:
        from app.jobs.relay import relay

        relay(ids)


def rollback() -> None:
    db.session.rollback()
    outbox.forget_pending_ids()
