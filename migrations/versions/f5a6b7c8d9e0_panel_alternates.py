"""panel alternates: a seat may be an alternate for its constituency

``panel_members.is_alternate`` (not null, false for every existing seat). An alternate
votes only while a regular member of the same constituency is absent or recused; that is
worked out when someone acts, so nothing else is stored.

Revision ID: f5a6b7c8d9e0
Revises: e1a2b3c4d5e6
Create Date: 2026-11-27 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f5a6b7c8d9e0"
down_revision = "e1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("panel_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_alternate", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("panel_members", schema=None) as batch_op:
        batch_op.drop_column("is_alternate")
