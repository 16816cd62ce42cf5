"""Automatic tenant scoping of every ORM statement, and the write guard.

``do_orm_execute`` adds ``tenant_id = <current>`` to every SELECT, UPDATE and
DELETE that touches a ``TenantScoped`` class (including joins, aliases and
relationship loads); ``before_flush`` stamps new rows with the current tenant
and refuses rows of any other. Call sites never filter by tenant themselves.
"""

from __future__ import annotations

from itertools import chain
from typing import TypeVar

from sqlalchemy import Executable, Integer, bindparam, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.models.base import TenantScoped
from app.tenants.context import current_scope

#: An id no tenant has: with no tenant in scope, scoped queries match nothing.
_NO_TENANT = -1


def _scoped_tenant_id() -> int:
    """The district a statement runs for, read as the statement executes."""
    tenant_id = current_scope().tenant_id
    return tenant_id if tenant_id is not None else _NO_TENANT


#: ``tenant_id = <the district in scope>`` for every scoped class of a statement. One option
#: for every statement: its parameter's value is read from the scope each time a statement
#: executes (``callable_``), so building the criteria, and its share of each statement's
#: cache key, is not paid again per statement (about a fifth of a simple read's time).
_TENANT_ID = bindparam("parley_scope_tenant_id", callable_=_scoped_tenant_id, type_=Integer)
_IN_SCOPE = with_loader_criteria(
    TenantScoped, lambda cls: cls.tenant_id == _TENANT_ID, include_aliases=True
)


class CrossTenantWrite(RuntimeError):
    """A flush would write a row that belongs to another tenant (or to none)."""


class ScopedStatementAcrossTenants(RuntimeError):
    """A statement built for one district's scope (``scoped``) ran across districts."""


S = TypeVar("S", bound=Executable)


def scoped(statement: S) -> S:
    """``statement`` with the scope's criteria already on it, for a statement built once
    (a module's constant, its values bound parameters) on a path every request takes.

    Adding the criteria as a statement executes makes a new statement each time, whose
    cache key SQLAlchemy must compute again; one built once with it keeps its key, which
    with building the statement itself is about two fifths of a simple read's time in
    Python. The district is still the one in scope as it runs (``_TENANT_ID``). Such a
    statement is for a district's work only: run across districts, it is refused.
    """
    return statement.options(_IN_SCOPE)


def _carries_scope(statement: Executable) -> bool:
    return any(option is _IN_SCOPE for option in statement._with_options)


def in_scope(statement: S) -> S:
    """``statement`` as it may run now: with the district's criteria in a district's scope
    (added unless it carries them), unchanged across districts, where one built for a
    district (``scoped``) is refused. The session's reads come here through the event
    below; rows read on the connection (``app.tenants.reads``) directly."""
    if current_scope().all_tenants:
        if _carries_scope(statement):
            raise ScopedStatementAcrossTenants(
                "a statement built for one district's scope ran across districts"
            )
        return statement
    return statement if _carries_scope(statement) else statement.options(_IN_SCOPE)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    scoped_now = in_scope(state.statement)
    if scoped_now is not state.statement:
        state.statement = scoped_now


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, flush_context, instances) -> None:
    scope = current_scope()
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if scope.all_tenants:
            if obj.tenant_id is None:
                raise CrossTenantWrite(f"{type(obj).__name__} has no tenant_id")
            continue
        if scope.tenant_id is None:
            raise CrossTenantWrite(f"{type(obj).__name__} written with no tenant in scope")
        if obj in session.new and obj.tenant_id is None:
            obj.tenant_id = scope.tenant_id
        elif obj.tenant_id != scope.tenant_id:
            raise CrossTenantWrite(
                f"{type(obj).__name__} of tenant {obj.tenant_id} written "
                f"while scoped to tenant {scope.tenant_id}"
            )
