"""The ORM session class: its transaction's connection matches the scope, and ``get``
respects the scope.

Work across districts runs on the platform role's connection (``PLATFORM_DATABASE_URL``),
the only role whose policy lets ``app.all_tenants`` widen what it sees. Everything else,
every request of a district included, runs as the app's role, whose policy admits the
rows of ``app.tenant_id`` alone, whatever the connection sets.

A transaction keeps one connection from its first statement to its end, so what it wrote
is what it reads, and its locks are its own: the engine is chosen when it begins, by the
scope then. Inside a transaction, ``tenant_scope`` only re-sends the setting; entering
``all_tenants()`` inside one begun as the app's role starts again on the platform's when
it has only read so far (a rollback of reads), and refuses when it has written: platform
work is its own unit of work, committed apart. Inside ``replica_reads()`` a new
transaction begins on the replica's engine for its scope (``app.tenants.replica``).

``Session.get`` answers from the identity map without SQL, so the automatic filter never
sees it. A session that loaded another tenant's row earlier (a CLI command or job that
works across scopes) must still not hand it out here.
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

#: The bind key of the platform role's engine (``SQLALCHEMY_BINDS``, set by the settings).
PLATFORM_BIND = "platform"
_ENGINE = "parley_transaction_engine"
_WROTE = "parley_transaction_wrote"


class PlatformWorkInsideWrites(RuntimeError):
    """``all_tenants()`` was entered in a transaction that already wrote as the app's role."""


class TenantSession(_FlaskSession):
    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any):
        """The open transaction's engine; for a new one, the platform's under
        ``all_tenants()`` when one is configured, else the app's."""
        if bind is None:
            held = self.info.get(_ENGINE)
            if held is not None:
                return held
            from app.tenants import replica
            from app.tenants.context import current_scope

            all_tenants = current_scope().all_tenants
            if self.info.get(replica.WANTS_REPLICA):
                engine = replica.engine_for(all_tenants)
                if engine is not None:
                    return engine
            platform = self.platform_engine()
            if platform is not None and all_tenants:
                return platform
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def has_written(self) -> bool:
        """Whether the open transaction wrote, or holds changes it will write."""
        return bool(self.info.get(_WROTE) or self.new or self.dirty or self.deleted)

    def platform_engine(self):
        """The platform role's engine, or None when work across districts shares the app's."""
        return self._db.engines.get(PLATFORM_BIND)

    def enter_platform_work(self) -> None:
        """Called as ``all_tenants()`` begins: make sure what follows runs as the platform.

        A transaction still on the app's connection that has only read is rolled back
        (its objects reload on first use); one that wrote is refused, since its rows
        could not be seen from another connection before it commits.
        """
        platform = self.platform_engine()
        held = self.info.get(_ENGINE)
        if platform is None or held is None or held is platform:
            return
        if self.has_written():
            raise PlatformWorkInsideWrites(
                "work across districts began inside a transaction that wrote as a district; "
                "commit it first (platform work is its own unit of work)"
            )
        self.rollback()

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        obj = super().get(entity, ident, **kwargs)
        if obj is None:
            return None
        from app.models.base import TenantScoped
        from app.tenants.context import current_scope

        scope = current_scope()
        hidden = isinstance(obj, TenantScoped) and not scope.all_tenants
        return None if hidden and obj.tenant_id != scope.tenant_id else obj


@event.listens_for(Session, "after_begin")
def _hold_engine(session: Session, transaction, connection) -> None:
    session.info[_ENGINE] = connection.engine


@event.listens_for(Session, "after_transaction_end")
def _release_engine(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ENGINE, None)
        session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True
