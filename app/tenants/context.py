"""The ambient tenant: who the current request, command or job works for.

One context variable holds the scope. It is set once (from the URL, the CLI
``--tenant`` option or the job's outbox row) and read by the scoping events,
so no query has to remember the tenant by hand. With nothing set the scope is
empty and scoped queries return nothing: the layer fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None = None
    #: Platform work (operators' pages, the outbox relay, migrations of data) across tenants.
    all_tenants: bool = False


_EMPTY = Scope()
_scope: ContextVar[Scope] = ContextVar("parley_tenant_scope", default=_EMPTY)


def current_scope() -> Scope:
    return _scope.get()


def current_tenant_id() -> int | None:
    return _scope.get().tenant_id


def require_tenant_id() -> int:
    """The district in scope, for an operation that writes rows of one district.

    A service takes its district from here rather than from each caller; called outside
    any district's scope it fails loudly instead of writing a row that belongs to no one.
    """
    tenant_id = _scope.get().tenant_id
    if tenant_id is None:
        raise RuntimeError("this operation needs a district's scope (tenant_scope)")
    return tenant_id


def _activate(scope: Scope, sent: bool = False):
    # What was written under the scope being left goes out under it, before the switch.
    _flush_pending()
    if scope.all_tenants:
        _enter_platform_work()
    unchanged = scope == _scope.get()
    token = _scope.set(scope)
    # A service re-entering its caller's scope (the audit trail) sends nothing; nor does a
    # request whose district's lookup set the scope in the same statement.
    if unchanged or sent:
        return token
    try:
        _sync_database_setting()
    except BaseException:
        # Never leave a scope behind that nobody will reset (threads are reused).
        _scope.reset(token)
        raise
    return token


def _restore(token) -> None:
    left = _scope.get()
    _scope.reset(token)
    if _scope.get() == left:
        return
    try:
        _sync_database_setting()
    except Exception:
        # The transaction is unusable anyway; the next one starts with the right setting.
        from app.extensions import db

        db.session.rollback()


@contextmanager
def _within(scope: Scope) -> Iterator[Scope]:
    token = _activate(scope)
    try:
        yield scope
        _flush_pending()
    finally:
        _restore(token)


def tenant_scope(tenant_id: int):
    """Run the block as ``tenant_id``: queries see only its rows, writes must be its own."""
    return _within(Scope(tenant_id=tenant_id))


def all_tenants():
    """Run the block across tenants. Only platform code (relay, ops, CLI) may ask for this."""
    return _within(Scope(all_tenants=True))


def carry_scope(items: Iterable[T]) -> Iterator[T]:
    """Iterate ``items`` later (a streamed response) under the scope that is current now.

    A response body runs after the view returned, outside this request's context
    variables; without carrying the scope, its queries would see nothing.
    """
    scope = current_scope()

    def _generate() -> Iterator[T]:
        with _within(scope):
            yield from items

    return _generate()


def enter_request_scope(tenant_id: int, sent: bool = False):
    """Set the scope for the rest of a request; ``leave_request_scope`` undoes it.

    ``sent``: the open transaction already carries the scope (the district's lookup set it,
    ``app.tenants.rls.scope_columns``), so nothing more goes to the database.
    """
    return _activate(Scope(tenant_id=tenant_id), sent)


def leave_request_scope(token) -> None:
    """Undo ``enter_request_scope``."""
    _restore(token)


def _flush_pending() -> None:
    """Writes made under a scope are flushed under it, where the guard and RLS expect them."""
    from flask import has_app_context

    if not has_app_context():
        return
    from app.extensions import db

    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()


def _enter_platform_work() -> None:
    from flask import has_app_context

    if not has_app_context():
        return
    from app.extensions import db

    db.session().enter_platform_work()


def _sync_database_setting() -> None:
    # Imported late: the context is used by code that runs before the app exists.
    from app.tenants.rls import sync_current_transaction

    sync_current_transaction()
