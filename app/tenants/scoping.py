"""Automatic tenant scoping of every ORM statement, and the write guard.

``do_orm_execute`` adds ``tenant_id = <current>`` to every SELECT, UPDATE and
DELETE that touches a ``TenantScoped`` class (including joins, aliases and
relationship loads); ``before_flush`` stamps new rows with the current tenant
and refuses rows of any other. Call sites never filter by tenant themselves.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.models.base import TenantScoped
from app.tenants.context import current_scope

#: An id no tenant has: with no tenant in scope, scoped queries match nothing.
_NO_TENANT = -1


class CrossTenantWrite(RuntimeError):
    """A flush would write a row that belongs to another tenant (or to none)."""


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope()
    if scope.all_tenants:
        return
    tenant_id = scope.tenant_id if scope.tenant_id is not None else _NO_TENANT
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


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
