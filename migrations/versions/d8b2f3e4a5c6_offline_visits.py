"""Visits sent from a device that was offline.

A visit logged while the consulting teacher had no connection waits on the device and is
sent when the connection returns, perhaps more than once (the first answer may have been
lost); the key the visit form carries makes the second sending find the first visit. The
key is unique within a district, and empty for visits logged any other way. ``visits`` is
already behind the tenant policy; a new column needs no new one.

Revision ID: d8b2f3e4a5c6
Revises: b3c4d5e6f7a8
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d8b2f3e4a5c6"
down_revision = "b3c4d5e6f7a8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_visits_tenant_id_idempotency_key"), ["tenant_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visits_tenant_id_idempotency_key"), type_="unique")
        batch_op.drop_column("idempotency_key")
