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


#: Methods whose requests only read: their transactions are read-only (``app.tenants.rls``).
_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The mark ``app.blueprints.operation.writes_on_get`` puts on a view.
WRITES_ON_GET = "parley_writes_on_get"


def reads_only() -> bool:
    """Whether the current request only reads: a GET (or HEAD) whose view is not marked
    ``writes_on_get`` (``app.blueprints.operation``). Outside a request (jobs, commands)
    nothing is read-only."""
    from flask import has_request_context, request

    if not has_request_context() or request.method not in _READING_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return not getattr(view, WRITES_ON_GET, False)


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
