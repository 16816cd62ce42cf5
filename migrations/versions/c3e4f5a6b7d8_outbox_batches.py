"""Outbox batches: the queue job that carries a row, when it is not the row's own.

The relay hands a queue's rows over several to a job (``RELAY_BATCH``); the job's id is
its first row's id, kept on every other row of the batch so the sweep can ask the queue
about the job that holds a row. A row alone in its job keeps ``batch_id`` empty.

Revision ID: c3e4f5a6b7d8
Revises: b5d6e7f8a9c0
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3e4f5a6b7d8"
down_revision = "b5d6e7f8a9c0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("batch_id")
