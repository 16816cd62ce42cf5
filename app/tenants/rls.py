"""PostgreSQL row-level security: the second wall behind the ORM scoping.

Every transaction carries the scope in transaction-local settings (``set_config(...,
true)``, one statement), so a pooled connection never carries a tenant over. Two
policies guard each table (created by the migrations, see ``policy_sql``):

- ``tenant_isolation``, for every role: a row whose ``tenant_id`` equals ``app.tenant_id``;
- ``platform_access``, for the platform role alone: every row, once its transaction set
  ``app.all_tenants``.

So the web role sees its request's district and nothing else, whatever it sets: a bug or
an injected ``set_config('app.all_tenants', 'on', true)`` on its connection widens nothing.
Work across districts connects as the platform role (``app.tenants.session``). With no
district set, both match nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.tenants.context import current_scope

_SET_SCOPE = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), "
    "set_config('app.all_tenants', :all_tenants, true)"
)
#: The same, for a request that only reads (a GET): PostgreSQL then refuses any write, and
#: the transaction commits at the end (``unit_of_work``) instead of rolling back, so the
#: connection keeps the statements psycopg prepared (a rollback makes it drop them all).
_SET_SCOPE_READ_ONLY = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true), "
    "set_config('app.all_tenants', :all_tenants, true), "
    "set_config('transaction_read_only', 'on', true)"
)


def _scope_params() -> dict[str, str]:
    scope = current_scope()
    return {
        "tenant_id": "" if scope.tenant_id is None else str(scope.tenant_id),
        "all_tenants": "on" if scope.all_tenants else "off",
    }


def _scope_statement():
    from app.core.uow import reads_only

    return _SET_SCOPE_READ_ONLY if reads_only() else _SET_SCOPE


#: Set on ``g`` while a request looks its district up: the scope follows in a moment.
DISTRICT_PENDING = "parley_district_pending"


def _scope_follows() -> bool:
    from flask import g, has_app_context

    return has_app_context() and bool(g.get(DISTRICT_PENDING))


@event.listens_for(Session, "after_begin")
def _set_scope_on_begin(session: Session, transaction, connection) -> None:
    """Send the scope as the transaction begins, in one statement.

    An empty scope sends nothing when the defaults will do: the settings are
    transaction-local, so every transaction starts with none, and the policies match
    nothing without them. A district's request begins so (its district is looked up
    first) and sends its scope, read-only flag included, once the district is known.
    """
    if connection.dialect.name != "postgresql":
        return
    scope = current_scope()
    statement = _scope_statement()
    empty = scope.tenant_id is None and not scope.all_tenants
    if empty and (statement is _SET_SCOPE or _scope_follows()):
        return
    connection.execute(statement, _scope_params())


def scope_columns(tenant_id: sa.ColumnElement, admitted: sa.ColumnElement, read_only: bool) -> list:
    """The scope as columns of the statement that finds the request's district, so a
    district's request sends no statement of its own for it (one round trip a page).

    The district's id goes into ``app.tenant_id`` only when ``admitted`` holds for its row
    (an open district): a closed one's lookup leaves the scope empty, as it was.
    ``read_only``: the request only reads (``app.core.uow.reads_only``), so its transaction
    refuses writes, as the scope's own statement would have set it.
    """
    tenant = sa.case((admitted, sa.cast(tenant_id, sa.Text)), else_=sa.literal_column("''"))
    columns = [_set_config("app.tenant_id", tenant), _set_config("app.all_tenants", "'off'")]
    if read_only:
        columns.append(_set_config("transaction_read_only", "'on'"))
    return columns


def _set_config(name: str, value) -> sa.ColumnElement:
    # Names and fixed values written into the statement, so it reads as what it sets.
    if isinstance(value, str):
        value = sa.literal_column(value)
    return sa.func.set_config(sa.literal_column(f"'{name}'"), value, sa.true())


def sync_current_transaction() -> None:
    """Re-send the scope when it changes inside an open transaction (on its one connection,
    see ``app.tenants.session``)."""
    from flask import has_app_context

    if not has_app_context():
        return
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_scope_statement(), _scope_params())


#: A row of the request's district: the only rows the web role can ever see.
TENANT_PREDICATE = "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::int)"
#: Every row, for the platform role alone, once its transaction asked for all districts.
PLATFORM_PREDICATE = "(current_setting('app.all_tenants', true) = 'on')"


def policy_sql(table: str) -> list[str]:
    """The statements that put ``table`` behind the tenant policies (used by migrations)."""
    platform = platform_role_name()
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"DROP POLICY IF EXISTS platform_access ON {table}",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING {TENANT_PREDICATE} WITH CHECK {TENANT_PREDICATE}",
        f"CREATE POLICY platform_access ON {table} AS PERMISSIVE TO {platform} "
        f"USING {PLATFORM_PREDICATE} WITH CHECK {PLATFORM_PREDICATE}",
    ]


def _role_name(variable: str, default: str) -> str:
    import os
    import re

    role = os.environ.get(variable, default)
    # The name is spliced into DDL (roles cannot be bound parameters): an identifier only.
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"{variable}={role!r} is not a plain lower-case identifier")
    return role


def app_role_name() -> str:
    """The role the app connects as (migrations grant it what it needs, and no more)."""
    return _role_name("PARLEY_DB_APP_ROLE", "parley_app")


def platform_role_name() -> str:
    """The role of work across districts: the only one ``app.all_tenants`` widens."""
    return _role_name("PARLEY_DB_PLATFORM_ROLE", "parley_platform")


def _create_role_sql(role: str) -> str:
    # Roles are cluster-wide: another database's migration may create it at the same time.
    # ``role`` is a checked identifier (``_role_name``), not outside input.
    return f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$"""  # nosec B608


def platform_role_sql(role: str) -> list[str]:
    """The platform's login role and what its work needs: it reads, adds and updates
    rows (the relay's claims, reminders' marks, billing's state, new districts), and
    deletes nothing; the audit trail takes its inserts only."""
    return [
        _create_role_sql(role),
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        f"REVOKE UPDATE ON audit_events FROM {role}",
    ]


def app_role_sql(role: str) -> list[str]:
    """Create the app's login role if missing, NOSUPERUSER NOBYPASSRLS, with DML rights only."""
    return [
        _create_role_sql(role),
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def tenant_fk(op, table: str) -> sa.ForeignKeyConstraint:
    """From a migration: ``table``'s ``tenant_id`` key to its district, named as the models
    name it (a district's rows go with it)."""
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def protect_tables(op, tables: list[str]) -> None:
    """From a migration: put ``tables`` behind the tenant policy (PostgreSQL only).

    Every migration that creates a table with ``tenant_id`` calls this; a test
    checks that no such table is left without row-level security.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    # The platform's policy names its role, which must exist before the first policy.
    op.execute(_create_role_sql(platform_role_name()))
    for table in tables:
        for statement in policy_sql(table):
            op.execute(statement)


def grant_app_role(op) -> None:
    """From a migration: (re)create the app's role and its grants (PostgreSQL only).

    The audit trail stays append-only for the app whenever the grants are renewed.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role_name()
    for statement in app_role_sql(role):
        op.execute(statement)
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}")
    for statement in platform_role_sql(platform_role_name()):
        op.execute(statement)
