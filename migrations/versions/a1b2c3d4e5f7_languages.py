"""Languages: a person's and a district's.

A person may choose the language they read the portal and their mail in
(``users.preferred_language``, empty until chosen); a district says which languages it
offers (``tenants.languages``, English always among them).

Revision ID: a1b2c3d4e5f7
Revises: c7a1e2d3f4b5
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f7"
down_revision = "c7a1e2d3f4b5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add both columns; every existing district offers English alone until it chooses."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("preferred_language", sa.String(8), nullable=True))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default='["en"]'))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("languages")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("preferred_language")
