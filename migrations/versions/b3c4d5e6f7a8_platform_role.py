"""platform role: only it can read across districts

Until now one policy admitted a row of the request's district, or any row once the
transaction set ``app.all_tenants``; so the web role could lift its own wall with one
``set_config``. Each table now has two policies: ``tenant_isolation`` (every role, the
district in ``app.tenant_id`` alone) and ``platform_access`` (the platform role alone,
every row under ``app.all_tenants``). Work across districts connects as that role
(``PLATFORM_DATABASE_URL``).

Revision ID: b3c4d5e6f7a8
Revises: a2b3c4d5e6f7
Create Date: 2026-11-26 23:50:00

"""

import sqlalchemy as sa
from alembic import op

from app.tenants import rls

# revision identifiers, used by Alembic.
revision = "b3c4d5e6f7a8"
down_revision = "a2b3c4d5e6f7"
branch_labels = None
depends_on = None

_PROTECTED = sa.text(
    "SELECT tablename FROM pg_policies "
    "WHERE schemaname = 'public' AND policyname = 'tenant_isolation' ORDER BY tablename"
)


def _protected_tables() -> list[str]:
    return list(op.get_bind().execute(_PROTECTED).scalars())


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    rls.grant_app_role(op)
    rls.protect_tables(op, _protected_tables())


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    either = f"({rls.TENANT_PREDICATE[1:-1]} OR {rls.PLATFORM_PREDICATE[1:-1]})"
    for table in _protected_tables():
        op.execute(f"DROP POLICY IF EXISTS platform_access ON {table}")
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING {either} WITH CHECK {either}")
