"""The end of a unit of work: commit once, then hand the outbox to the relay."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from app.core import outbox
from app.extensions import db

_UNDO_KEY = "parley_undo_on_rollback"
_AFTER_KEY = "parley_after_commit"
_RELAY_KEY = "parley.relay"


def init_app(app: Flask, relay: Callable[[list[str]], object]) -> None:
    """Name the relay that takes committed outbox rows (the jobs package provides it)."""
    app.extensions[_RELAY_KEY] = relay


def undo_on_rollback(undo: Callable[[], None]) -> None:
    """Run ``undo`` if this unit of work rolls back: a file stored during it is deleted."""
    db.session.info.setdefault(_UNDO_KEY, []).append(undo)


def after_commit(then: Callable[[], None]) -> None:
    """Run ``then`` once this unit of work has committed: a file the new rows no longer
    name is deleted only when nothing can roll the change back."""
    db.session.info.setdefault(_AFTER_KEY, []).append(then)


def commit() -> None:
    """Commit the session; the outbox rows it carried are relayed after the commit.

    The relay runs after the commit on purpose: a job must never see (or send
    mail about) a change that was rolled back.
    """
    db.session.commit()
    db.session.info.pop(_UNDO_KEY, None)
    for then in db.session.info.pop(_AFTER_KEY, []):
        then()
    ids = outbox.take_pending_ids()
    if ids:
        current_app.extensions[_RELAY_KEY](ids)


def rollback() -> None:
    db.session.rollback()
    outbox.forget_pending_ids()
    db.session.info.pop(_AFTER_KEY, None)
    for undo in db.session.info.pop(_UNDO_KEY, []):
        try:
            undo()
        except OSError:  # a store gone read-only keeps the file; the rollback still stands
            current_app.logger.warning("could not undo a stored file", exc_info=True)
